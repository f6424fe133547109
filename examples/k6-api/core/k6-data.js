// k6/data: a SharedArray made once in the init context, read by every VU, read-only.
import { SharedArray } from 'k6/data';
import { check } from 'k6';
import exec from 'k6/execution';

const prompts = new SharedArray('prompts', function () {
  const list = [];
  for (let i = 0; i < 5; i++) {
    list.push({ id: i, text: `prompt ${i}`, tags: ['a', 'b'] });
  }
  return list;
});

export const options = {
  vus: 2,
  iterations: 6,
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const item = prompts[exec.scenario.iterationInTest % prompts.length];
  check(prompts, {
    'it has its length': (p) => p.length === 5,
    'it can be iterated': (p) => Array.from(p).map((x) => x.id).join() === '0,1,2,3,4',
    'an element keeps its fields': () => item.text === `prompt ${item.id}`,
  });
  let threw = false;
  try {
    item.text = 'changed';
  } catch (e) {
    threw = e instanceof TypeError;
  }
  check(item, {
    'an element cannot be changed': (x) => threw && x.text === `prompt ${x.id}`,
    'nested arrays are read-only too': (x) => Object.isFrozen(x.tags),
  });
  if (exec.scenario.iterationInTest === 5) {
    console.log('k6-data: all steps ran');
  }
}
