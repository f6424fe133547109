// Client.close(): after it, calls need a new connect.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  client.close();
  let threw = false;
  try {
    client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' });
  } catch (e) {
    threw = String(e).includes('connect first');
  }
  check(threw, { 'invoke after close throws': (t) => t });
};
