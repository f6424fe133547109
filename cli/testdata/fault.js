// The black-hole/fault suite's script (fault_test.go): every VU makes one blocking call of
// kind __ENV.CLIENT against __ENV.TARGET, with per-call timeouts far longer than the run,
// so that only the end of the iteration (gracefulStop, or a signal) can end the call.
import http from 'k6/http';
import ws from 'k6/ws';
import pixel from 'k6/x/pixel';
import { sleep } from 'k6';
import { Counter } from 'k6/metrics';

const teardownMarker = new Counter('teardown_marker');

export const options = {
  scenarios: {
    fault: { executor: 'constant-vus', vus: 2, duration: __ENV.DURATION, gracefulStop: __ENV.GRACE },
  },
};

export default function () {
  if (__ITER === 0) console.log('calling ' + __ENV.CLIENT);
  switch (__ENV.CLIENT) {
    case 'http':
      http.get(__ENV.TARGET, { timeout: '120s' });
      break;
    case 'ws':
      ws.connect(__ENV.TARGET, function (socket) {
        socket.on('open', function () { socket.send('hello'); });
      });
      break;
    case 'stream':
      pixel.stream(__ENV.TARGET, { connectTimeout: '120s', ackTimeout: '120s', sessionTimeout: '120s', chunks: 3 });
      break;
    case 'streamAsync': // a promise that settles only when the session ends
      pixel.streamAsync(__ENV.TARGET, { connectTimeout: '120s', ackTimeout: '120s', sessionTimeout: '120s', chunks: 3 });
      break;
    case 'sleep':
      sleep(120);
      break;
    case 'timer': // the iteration waits for its pending timers
      setTimeout(function () {}, 120000);
      break;
  }
  sleep(0.05); // a refused target fails at once: keep the loop from spinning
}

export function teardown() {
  teardownMarker.add(1); // the run's last sample: the output file must hold it
}
