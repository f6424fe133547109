// Too few VUs for the rate: every iteration takes 300ms, 20 start per second, at most 2
// VUs. Iterations are dropped and k6 warns that it cannot initialise more VUs.
import http from 'k6/http';

export const options = {
  scenarios: {
    slow: {
      executor: 'constant-arrival-rate',
      rate: 20,
      duration: '1s',
      preAllocatedVUs: 1,
      maxVUs: 2,
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE_URL}/slow`);
}
