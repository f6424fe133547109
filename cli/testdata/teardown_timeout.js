export const options = { iterations: 1, teardownTimeout: '200ms' };

export default function () {}

export function teardown() {
  for (;;) {}
}
