// k6/metrics: the four custom metric types, with tags, held to exact values by thresholds.
import { check } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';

const jobs = new Counter('example_jobs');
const queueDepth = new Gauge('example_queue_depth');
const accepted = new Rate('example_accepted');
const waitTime = new Trend('example_wait_time', true);

export const options = {
  iterations: 1,
  thresholds: {
    checks: ['rate==1'],
    example_jobs: ['count==6'],
    'example_jobs{queue:fast}': ['count==2'],
    example_queue_depth: ['value==3'],
    example_accepted: ['rate==0.75'],
    example_wait_time: ['avg==20', 'min==10', 'max==30', 'med==20'],
    'example_wait_time{queue:slow}': ['avg==30'],
  },
};

export default function () {
  jobs.add(1, { queue: 'fast' });
  jobs.add(1, { queue: 'fast' });
  jobs.add(4, { queue: 'slow' });

  queueDepth.add(9);
  queueDepth.add(3); // a gauge keeps its last value

  accepted.add(true);
  accepted.add(1);
  accepted.add(true);
  accepted.add(false);

  waitTime.add(10, { queue: 'fast' });
  waitTime.add(20, { queue: 'fast' });
  waitTime.add(30, { queue: 'slow' });

  check(jobs, { 'a metric object keeps its name': (m) => m.name === 'example_jobs' });
  console.log('k6-metrics: all steps ran');
}
