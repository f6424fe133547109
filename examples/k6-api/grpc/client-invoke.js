// Client.invoke(url, request, params): a unary call; the request is a plain object in the
// protobuf JSON mapping, the response's message too.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const res = client.invoke('pixel.v1.Inference/Infer', {
    prompt: 'Women are too emotional to lead',
    modalities: ['text'],
  });
  check(res, {
    'status is OK': (r) => r && r.status === grpc.StatusOK,
    'bias found': (r) => r.message.bias.detected && r.message.bias.categories[0] === 'gender',
  });
  client.close();
};
