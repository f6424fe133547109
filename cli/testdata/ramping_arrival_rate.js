// A morning-peak arrival profile, compressed to seconds: steady traffic, a ramp to twice
// as much, a plateau, then a fall to a trickle. Rates are iterations started per second.
import http from 'k6/http';

const warmup = { target: 30, duration: '250ms' };
const peakRamp = { target: 60, duration: '500ms' };
const peak = { target: 60, duration: '1s' };
const evening = { target: 6, duration: '500ms' };

export const options = {
  discardResponseBodies: true,
  scenarios: {
    daily_profile: {
      executor: 'ramping-arrival-rate',
      startRate: 30,
      timeUnit: '1s',
      preAllocatedVUs: 5,
      maxVUs: 50,
      stages: [warmup, peakRamp, peak, evening],
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE_URL}/api/ai/pixel/status`);
}
