// Response: status, message, headers, trailers and error.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const ok = client.invoke('pixel.v1.Inference/Infer', { prompt: 'stressed out about exams' });
  check(ok, {
    'status OK': (r) => r.status === grpc.StatusOK,
    'message is an object': (r) => typeof r.message === 'object' && r.message.model !== '',
    'headers carry the content type': (r) => r.headers['content-type'][0] === 'application/grpc',
    'trailers are an object': (r) => typeof r.trailers === 'object',
    'no error': (r) => r.error === null,
  });
  const bad = client.invoke('pixel.v1.Inference/Infer', {}); // no prompt: InvalidArgument
  check(bad, {
    'status InvalidArgument': (r) => r.status === grpc.StatusInvalidArgument,
    'no message': (r) => r.message === null,
    'error explains': (r) => r.error.message.includes('prompt'),
  });
  client.close();
};
