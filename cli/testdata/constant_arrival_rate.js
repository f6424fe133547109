// An open-model inference load: new requests arrive at a fixed rate whatever the service's
// latency, and more VUs are started when the preallocated ones are all busy.
import http from 'k6/http';

export const options = {
  discardResponseBodies: true,
  scenarios: {
    inference_arrivals: {
      executor: 'constant-arrival-rate',
      rate: 30, // requests started per timeUnit
      timeUnit: '1s',
      duration: '2s',
      preAllocatedVUs: 2,
      maxVUs: 50,
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE_URL}/api/ai/pixel/status`);
}
