// Client.asyncInvoke: the same call, returning a Promise; several calls run at once.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default async () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const prompts = ['I feel anxious', 'I feel hopeless', 'I am suicidal'];
  const responses = await Promise.all(prompts.map((prompt) => client.asyncInvoke('pixel.v1.Inference/Infer', { prompt })));
  check(responses, {
    'all OK': (rs) => rs.every((r) => r.status === grpc.StatusOK),
    'levels in order': (rs) => rs.map((r) => r.message.crisis.risk_level).join() === 'low,medium,high',
  });
  client.close();
};
