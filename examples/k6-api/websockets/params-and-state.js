// Params (headers, tags, the VU's cookie jar or one of the script's own), the ready states,
// the constants on the class and on instances, url and protocol.
import { WebSocket } from 'k6/websockets';
import http from 'k6/http';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const url = __ENV.ECHO_URL;
const site = url.replace('ws://', 'http://');

export default function () {
  http.cookieJar().set(site, 'visitor', 'vu-jar');
  const ownJar = new http.CookieJar();
  ownJar.set(site, 'visitor', 'own-jar');

  const ws = new WebSocket(url, 'chat', { headers: { 'X-Pixel-Team': 'load' }, tags: { room: 'lobby' } });
  check(ws, {
    'starts CONNECTING': (s) => s.readyState === WebSocket.CONNECTING && s.CONNECTING === 0,
    'has its url': (s) => s.url === url,
  });
  ws.onopen = () => {
    check(ws, { 'is OPEN in onopen, with the chat subprotocol': (s) => s.readyState === s.OPEN && s.protocol === 'chat' });
    ws.send('WHO-AM-I');
  };
  ws.onmessage = (e) => {
    const seen = JSON.parse(e.data);
    check(seen, {
      'the server saw our header': (h) => h['X-Pixel-Team'] === 'load',
      "the VU's jar went along": (h) => h.Cookie === 'visitor=vu-jar',
    });
    ws.close();
    check(ws, { 'is CLOSING after close()': (s) => s.readyState === WebSocket.CLOSING });
  };
  ws.onclose = () => {
    check(ws, { 'is CLOSED in onclose': (s) => s.readyState === WebSocket.CLOSED });
  };

  const other = new WebSocket(url, null, { jar: ownJar });
  other.onopen = () => other.send('WHO-AM-I');
  other.onmessage = (e) => {
    check(JSON.parse(e.data), { 'params.jar replaces the VU jar': (h) => h.Cookie === 'visitor=own-jar' });
    other.close();
  };
}
