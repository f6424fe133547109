// k6/timers: setTimeout, setInterval and their clear functions on the VU's event loop; the
// iteration ends when no timer is left.
import { setTimeout, clearTimeout, setInterval, clearInterval } from 'k6/timers';
import { check } from 'k6';

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };

export default function () {
  const order = [];
  const cancelled = setTimeout(() => order.push('never'), 10);
  clearTimeout(cancelled);
  setTimeout((a, b) => order.push(`late ${a}${b}`), 60, 'x', 'y');
  setTimeout(() => order.push('early'), 5);
  let ticks = 0;
  const every = setInterval(() => {
    ticks++;
    order.push(`tick ${ticks}`);
    if (ticks === 3) {
      clearInterval(every);
    }
  }, 10);
  setTimeout(() => {
    check(order, {
      'timers run in time order': (o) => o[0] === 'early' && o.indexOf('late xy') > o.indexOf('tick 3'),
      'the cleared timeout never ran': (o) => !o.includes('never'),
      'the interval ran three times': () => ticks === 3,
      'arguments reach the callback': (o) => o.includes('late xy'),
    });
    console.log('k6-timers: all steps ran');
  }, 120);
}
