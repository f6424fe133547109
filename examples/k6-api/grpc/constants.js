// Constants: compare a response's status with grpc.Status*.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const res = client.invoke('pixel.v1.Inference/Infer', { prompt: 'hello', modalities: ['smell'] });
  check(res, {
    'an unknown modality is InvalidArgument': (r) => r.status === grpc.StatusInvalidArgument,
    'constants are distinct numbers': () => grpc.StatusOK === 0 && grpc.StatusDeadlineExceeded === 4 && grpc.StatusUnauthenticated === 16,
  });
  client.close();
};
