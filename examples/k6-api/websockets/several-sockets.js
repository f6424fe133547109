// One VU, several sockets at once on its event loop: each socket announces itself, talks on
// a timer, says goodbye after a while and is closed by a second timer. The iteration ends
// when the last socket has closed.
import { WebSocket } from 'k6/websockets';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const SOCKETS = 3;

export default function () {
  for (let id = 0; id < SOCKETS; id++) {
    openWorker(id);
  }
}

function openWorker(id) {
  const ws = new WebSocket(__ENV.ECHO_URL);
  ws.binaryType = 'arraybuffer';
  const heard = [];

  ws.addEventListener('open', () => {
    ws.send(JSON.stringify({ event: 'HELLO', from: `worker ${__VU}:${id}` }));

    ws.addEventListener('message', (e) => {
      heard.push(JSON.parse(e.data).event);
    });

    const talking = setInterval(() => {
      ws.send(JSON.stringify({ event: 'TALK', from: `worker ${__VU}:${id}` }));
    }, 30);

    const goodbye = setTimeout(() => {
      clearInterval(talking);
      ws.send(JSON.stringify({ event: 'BYE' }));
    }, 200);

    const hangUp = setTimeout(() => {
      ws.close();
    }, 400);

    ws.addEventListener('close', () => {
      clearTimeout(goodbye);
      clearTimeout(hangUp);
      check(heard, {
        [`worker ${id} heard its hello first and its bye last`]: (h) => h[0] === 'HELLO' && h[h.length - 1] === 'BYE',
        [`worker ${id} heard itself talk`]: (h) => h.filter((e) => e === 'TALK').length >= 3,
      });
      check(ws, { [`worker ${id} is closed`]: (s) => s.readyState === WebSocket.CLOSED });
    });
  });
}
