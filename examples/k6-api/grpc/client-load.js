// Client.load(importPaths, ...protoFiles): compile .proto files in the init context.
// The import path is relative to this script, as open() paths are.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
const methods = client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  check(methods, {
    'two methods loaded': (m) => m.length === 2,
    'Stream is bidirectional': (m) => m.some((x) => x.name === 'Stream' && x.isClientStream && x.isServerStream),
  });
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const res = client.invoke('/pixel.v1.Inference/Infer', { prompt: 'hello there' });
  check(res, { 'status is OK': (r) => r.status === grpc.StatusOK });
  client.close();
};
