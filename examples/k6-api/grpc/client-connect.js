// Client.connect(address, params): plaintext, a connect timeout and message size limits.
// Connecting is only allowed in VU code; here the VU connects once and keeps the connection.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { iterations: 3, thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  if (__ITER === 0) {
    client.connect(__ENV.GRPC_ADDR, {
      plaintext: true,
      timeout: 2000, // milliseconds, or a string such as '2s'
      maxReceiveSize: 1 << 20,
      maxSendSize: 1 << 20,
    });
  }
  const res = client.invoke('pixel.v1.Inference/Infer', { prompt: 'just checking in' });
  check(res, { 'status is OK': (r) => r.status === grpc.StatusOK });
  // The connection is left open between iterations on purpose.
};
