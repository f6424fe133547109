export const options = {
  scenarios: {
    a: { executor: 'shared-iterations', iterations: 2, env: { MODE: 'scenario' }, tags: { sc: 'a' } },
  },
};
export default function () {
  if (__ENV.FROM_FLAG !== 'yes') throw new Error('FROM_FLAG=' + __ENV.FROM_FLAG);
}
