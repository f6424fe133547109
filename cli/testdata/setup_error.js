export const options = { iterations: 1 };
export function setup() {
  throw new Error('no token');
}
export default function () {}
