// Stream errors: the 'error' handler gets {code, details, message}; here the stream's own
// timeout expires while the session is still open.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const stream = new grpc.Stream(client, 'pixel.v1.Inference/Stream', { timeout: '200ms' });
  stream.on('error', (e) => {
    check(e, {
      'deadline exceeded': (x) => x.code === grpc.StatusDeadlineExceeded,
      'has a message': (x) => typeof x.message === 'string' && x.message.length > 0,
      'details is an array': (x) => Array.isArray(x.details),
    });
  });
  stream.on('end', () => client.close());
  stream.write({ type: 'start', session_id: 'left-open' });
  // No end(): the session stays open until the timeout.
};
