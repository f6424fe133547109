// Stream.on(event, handler): 'data' for each server message, 'end' when the server closes
// its side, 'error' when the call fails.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const stream = new grpc.Stream(client, 'pixel.v1.Inference/Stream');
  const seen = [];
  stream.on('data', (msg) => seen.push(msg.type));
  stream.on('end', () => {
    check(seen, { 'ready then inference': (s) => s.join() === 'ready,inference' });
    client.close();
  });
  stream.write({ type: 'start', session_id: 'on' });
  stream.write({ type: 'end' });
  stream.end();
};
