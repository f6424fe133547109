// Binary data both ways (ArrayBuffer, typed arrays, Blob; binaryType 'blob' and
// 'arraybuffer'), ping and pong, a server's ping, close with a code and a reason,
// compression, and onerror for a connection that cannot be made.
import { WebSocket, Blob } from 'k6/websockets';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const url = __ENV.ECHO_URL;

export default function () {
  const ws = new WebSocket(url, null, { compression: 'deflate' });
  const steps = [];

  ws.onopen = () => {
    check(ws, { 'permessage-deflate negotiated': (s) => s.extensions.includes('permessage-deflate') });
    ws.send(new Blob(['pixel', new Uint8Array([33]).buffer], { type: 'text/plain' }));
  };
  ws.onmessage = async (e) => {
    if (steps.length === 0) {
      steps.push('blob');
      check(e.data, { 'binary arrives as a Blob by default': (b) => b instanceof Blob && b.size === 6 });
      check(await e.data.text(), { 'the Blob reads back as text': (t) => t === 'pixel!' });
      ws.binaryType = 'arraybuffer';
      ws.send(new Uint16Array([258, 772]));
    } else if (steps.length === 1) {
      steps.push('arraybuffer');
      check(e.data, { 'with binaryType arraybuffer it is an ArrayBuffer': (ab) => ab instanceof ArrayBuffer && ab.byteLength === 4 });
      ws.ping();
    }
  };
  ws.onpong = () => {
    steps.push('pong');
    ws.send('PING-ME');
  };
  ws.onping = () => {
    steps.push('ping');
    ws.close(4000, 'all done');
  };
  ws.onclose = (e) => {
    check(e, { 'close carries our code and reason': (c) => c.code === 4000 && c.reason === 'all done' && c.wasClean });
    check(steps, { 'every step ran, in order': (s) => s.join() === 'blob,arraybuffer,pong,ping' });
  };

  const nowhere = new WebSocket(__ENV.CLOSED_URL);
  const events = [];
  nowhere.onerror = (e) => events.push(`error:${typeof e.error}`);
  nowhere.onclose = (e) => {
    events.push(`close:${e.code}`);
    check(events, { 'a refused connection: error, then close 1006': (ev) => ev.join() === 'error:string,close:1006' });
  };
}
