// Stream(client, url, params): pixelsim's bidirectional multimodal session. Every chunk is
// acknowledged; 'end' is answered with the inference of the text sent so far.
import { Client, Stream, StatusOK } from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const stream = new Stream(client, 'pixel.v1.Inference/Stream');
  const acks = [];
  let inference = null;
  stream.on('data', (msg) => {
    if (msg.type === 'chunk_ack') acks.push(msg.client_seq);
    if (msg.type === 'inference') inference = msg.inference;
  });
  stream.on('error', (e) => console.error('stream error: ' + JSON.stringify(e)));
  stream.on('end', () => {
    check(acks, { 'three chunks acknowledged': (a) => a.join() === '1,2,3' });
    check(inference, { 'high risk found': (i) => i !== null && i.crisis.risk_level === 'high' });
    client.close();
  });
  stream.write({ type: 'start', session_id: 'session-' + __VU, modalities: ['text', 'audio'] });
  stream.write({ type: 'chunk', seq: 1, text: 'some days' });
  stream.write({ type: 'chunk', seq: 2, modality: 'audio', data: 'AAEC' });
  stream.write({ type: 'chunk', seq: 3, text: 'I want to die' });
  stream.write({ type: 'end' });
  stream.end();
  check(StatusOK, { 'StatusOK is a named export': (s) => s === 0 });
};
