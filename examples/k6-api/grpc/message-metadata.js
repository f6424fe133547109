// Metadata: every handler gets a second argument whose ts is the event's time (Unix seconds).
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  const before = Math.floor(Date.now() / 1000);
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const stream = new grpc.Stream(client, 'pixel.v1.Inference/Stream');
  stream.on('data', (msg, metadata) => {
    check(metadata, { 'ts is now': (m) => m.ts >= before && m.ts <= Math.ceil(Date.now() / 1000) });
  });
  stream.on('end', () => client.close());
  stream.write({ type: 'start', session_id: 'ts' });
  stream.end();
};
