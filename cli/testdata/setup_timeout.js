export const options = { iterations: 1, setupTimeout: '200ms' };

export function setup() {
  for (;;) {}
}

export default function () {}
