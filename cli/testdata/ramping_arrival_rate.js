// k6's ramping-arrival-rate documentation example (300 → 600 → 60 iterations per minute
// over 1m, 2m, 4m, 2m), with the test's loopback server for test.k6.io and the same shape
// shortened for a unit test: per second, rates divided by 10, stages of 250ms, 500ms, 1s
// and 500ms.
import http from 'k6/http';

export const options = {
  discardResponseBodies: true,

  scenarios: {
    contacts: {
      executor: 'ramping-arrival-rate',

      // Start iterations per `timeUnit`
      startRate: 30,

      // Start `startRate` iterations per second
      timeUnit: '1s',

      // Pre-allocate necessary VUs.
      preAllocatedVUs: 5,
      maxVUs: 50,

      stages: [
        // Start 30 iterations per `timeUnit` for the first 250ms.
        { target: 30, duration: '250ms' },

        // Linearly ramp-up to starting 60 iterations per `timeUnit` over the following 500ms.
        { target: 60, duration: '500ms' },

        // Continue starting 60 iterations per `timeUnit` for the following 1s.
        { target: 60, duration: '1s' },

        // Linearly ramp-down to starting 6 iterations per `timeUnit` over the last 500ms.
        { target: 6, duration: '500ms' },
      ],
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE_URL}/contacts.php`);
}
