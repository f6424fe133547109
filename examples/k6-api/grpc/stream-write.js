// Stream.write(message) and Stream.end(): messages in the protobuf JSON mapping; end() closes
// the client's side, after which the server finishes and 'end' fires.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'], grpc_streams_msgs_sent: ['count==4'] } };

const client = new grpc.Client();
client.load(['../../../simulator/pixelpb'], 'pixel.proto');

export default () => {
  client.connect(__ENV.GRPC_ADDR, { plaintext: true });
  const stream = new grpc.Stream(client, 'pixel.v1.Inference/Stream');
  let received = 0;
  stream.on('data', () => received++);
  stream.on('end', () => {
    check(received, { 'one answer per message': (n) => n === 4 });
    client.close();
  });
  for (let i = 1; i <= 3; i++) {
    stream.write({ type: 'chunk', seq: i, text: 'chunk ' + i });
  }
  stream.write({ type: 'end' });
  stream.end();
};
