// grpc.Client: one client per VU, created in the init context, connected in VU code.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true, timeout: '5s' });
  const response = client.invoke('pixel.v1.Inference/Infer', { prompt: 'I have been feeling lonely lately' });
  check(response, {
    'status is OK': (r) => r && r.status === grpc.StatusOK,
    'risk is low': (r) => r.message.crisis.risk_level === 'low',
  });
  client.close();
};
