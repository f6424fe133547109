// Client.healthCheck([service]): the standard gRPC health check.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const server = client.healthCheck();
  check(server, {
    'health call OK': (r) => r.status === grpc.StatusOK,
    'server serving': (r) => r.message.status === grpc.HealthCheckServing,
  });
  const svc = client.healthCheck('pixel.v1.Inference');
  check(svc, { 'inference serving': (r) => r.message.status === grpc.HealthCheckServing });
  const unknown = client.healthCheck('no.such.Service');
  check(unknown, { 'unknown service': (r) => r.message.status === grpc.HealthCheckServiceUnknown });
  client.close();
};
