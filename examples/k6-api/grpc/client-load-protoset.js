// Client.loadProtoset(path): load compiled descriptors (protoc --descriptor_set_out
// --include_imports) instead of .proto sources.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.loadProtoset('../../../simulator/pixelpb/pixel.protoset');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const res = client.invoke('pixel.v1.Inference/Infer', { prompt: 'I feel worthless' });
  check(res, {
    'status is OK': (r) => r.status === grpc.StatusOK,
    'medium risk': (r) => r.message.crisis.risk_level === 'medium',
  });
  client.close();
};
