export const options = { iterations: 1, thresholds: { iterations: ['p(95)<1'] } };
export default function () {}
