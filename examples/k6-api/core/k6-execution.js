// k6/execution: what a VU knows about itself, its scenario, the instance and the test.
import exec from 'k6/execution';
import { check } from 'k6';

export const options = {
  scenarios: {
    batch: { executor: 'per-vu-iterations', vus: 2, iterations: 2, tags: { team: 'ai' } },
  },
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  check(exec.vu, {
    'VU ids start at 1': (vu) => vu.idInInstance >= 1 && vu.idInInstance <= 2 && vu.idInTest === vu.idInInstance,
    'iterations count from 0': (vu) => vu.iterationInInstance >= 0 && vu.iterationInScenario <= 1,
    'the scenario tag is on the VU': (vu) => vu.tags.scenario === 'batch',
  });
  check(exec.scenario, {
    'the scenario is named': (s) => s.name === 'batch',
    'its executor is known': (s) => s.executor === 'per-vu-iterations',
    'its start time is in the past': (s) => s.startTime <= Date.now(),
    'its progress is between 0 and 1': (s) => s.progress >= 0 && s.progress <= 1,
  });
  check(exec.instance, {
    'two VUs are initialised': (i) => i.vusInitialized === 2,
    'the test has been running': (i) => i.currentTestRunDuration >= 0,
  });
  check(exec.test.options, {
    'test.options has the scenarios': (o) => o.scenarios.batch.executor === 'per-vu-iterations',
  });

  exec.vu.tags.step = 'tagged';
  check(exec.vu.tags.step, { 'a VU tag can be set and read': (v) => v === 'tagged' });
  exec.vu.metrics.metadata.trace_id = `trace-${exec.vu.idInTest}-${exec.vu.iterationInScenario}`;
  check(exec.vu.metrics.metadata.trace_id, { 'metadata can be set and read': (v) => v.startsWith('trace-') });
  delete exec.vu.metrics.metadata.trace_id;

  if (exec.vu.idInTest === 2 && exec.vu.iterationInScenario === 1) {
    console.log('k6-execution: all steps ran');
  }
}
