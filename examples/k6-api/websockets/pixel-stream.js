// The multimodal stream of pixelsim through k6/websockets: chunks on a timer, one ack per
// chunk, then the final inference; chunk latency in a custom Trend.
import { WebSocket } from 'k6/websockets';
import { Trend } from 'k6/metrics';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const CHUNKS = Number(__ENV.CHUNKS || 10);
const EVERY_MS = Number(__ENV.EVERY_MS || 20);
const chunkLatency = new Trend('chunk_latency', true);

export default function () {
  const ws = new WebSocket(__ENV.PIXEL_WS_URL, null, { tags: { name: 'pixel-stream' } });
  const sentAt = {};
  let acks = 0;
  let seq = 0;
  let ticker;

  ws.onopen = () => {
    ws.send(JSON.stringify({ type: 'start', session_id: `vu-${__VU}-${__ITER}`, modalities: ['text'] }));
    ticker = setInterval(() => {
      seq++;
      sentAt[seq] = Date.now();
      ws.send(JSON.stringify({ type: 'chunk', seq, modality: 'text', data: 'I have been feeling fine lately. ' }));
      if (seq === CHUNKS) {
        clearInterval(ticker);
        ws.send(JSON.stringify({ type: 'end' }));
      }
    }, EVERY_MS);
  };
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'chunk_ack') {
      acks++;
      if (sentAt[msg.client_seq]) chunkLatency.add(Date.now() - sentAt[msg.client_seq]);
    } else if (msg.type === 'inference') {
      check(msg, { 'an inference with a response': (m) => typeof m.response === 'string' });
      check(acks, { 'every chunk acknowledged': (n) => n === CHUNKS });
      ws.close();
    }
  };
  ws.onerror = (e) => {
    clearInterval(ticker);
    console.error(`stream error: ${e.error}`);
  };
}
