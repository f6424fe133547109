// A multipart/form-data upload: an object body holding http.file() values goes as
// multipart. The file is this script's own bytes, read with open(path, 'b'); the counter
// answers each part's name, type, size and SHA-256, which we compare with k6/crypto's.
import http from 'k6/http';
import crypto from 'k6/crypto';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const self = open('./multipart-upload.js', 'b');
const note = 'paper lanterns, 40 pieces';

export default function () {
  const res = http.post(`${__ENV.BASE_URL}/upload`, {
    order: 'LQ-2291',
    source: http.file(self, 'multipart-upload.js', 'text/javascript'),
    note: http.file(note, 'note.txt'),
  });

  check(self, { "open(path, 'b') gives an ArrayBuffer": (b) => b instanceof ArrayBuffer && b.byteLength > 0 });
  check(res, {
    'the upload went as multipart/form-data': (r) => r.status === 200 && r.json('contentType') === 'multipart/form-data',
    'a plain field travels beside the files': (r) => r.json('fields.order') === 'LQ-2291',
    'the file keeps its name and type': (r) => r.json('files.source.Name') === 'multipart-upload.js' && r.json('files.source.Type') === 'text/javascript',
    'the server got every byte': (r) =>
      r.json('files.source.Size') === self.byteLength && r.json('files.source.SHA256') === crypto.sha256(self, 'hex'),
    'a string file defaults to application/octet-stream': (r) => r.json('files.note.Type') === 'application/octet-stream',
    'and arrives intact': (r) => r.json('files.note.SHA256') === crypto.sha256(note, 'hex'),
  });
}
