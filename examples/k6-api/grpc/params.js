// Params: metadata (a -bin key takes binary data), tags, timeout, discardResponseMessage.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = {
  thresholds: {
    checks: ['rate==1'],
    'grpc_req_duration{endpoint:infer}': ['max<10000'],
  },
};

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const params = {
    metadata: { 'x-request-source': 'k6', 'x-trace-bin': new Uint8Array([1, 2, 3]) },
    tags: { endpoint: 'infer' },
    timeout: '10s',
  };
  const full = client.invoke('pixel.v1.Inference/Infer', { prompt: 'I feel down' }, params);
  const lean = client.invoke('pixel.v1.Inference/Infer', { prompt: 'I feel down' },
    Object.assign({}, params, { discardResponseMessage: true }));
  check(full, { 'message kept': (r) => r.status === grpc.StatusOK && r.message !== null });
  check(lean, { 'message discarded': (r) => r.status === grpc.StatusOK && r.message === null });
  client.close();
};
