// Compression both ways. params.compression compresses the request body and sets
// Content-Encoding (the counter undoes it and echoes the text); responses the server
// compresses with gzip, br or zstd reach the script decoded.
import http from 'k6/http';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const base = __ENV.BASE_URL;
const report = JSON.stringify({ readings: Array.from({ length: 50 }, (_, i) => ({ sensor: `s-${i % 5}`, celsius: 20 + (i % 7) })) });

export default function () {
  for (const compression of ['gzip', 'br', 'zstd', 'deflate, gzip']) {
    const res = http.post(`${base}/unpack`, report, { compression, headers: { 'Content-Type': 'application/json' } });
    check(res, {
      [`compression '${compression}' arrives as sent, smaller on the wire`]: (r) =>
        r.status === 200 && r.json('encoding') === compression && r.json('body') === report && r.json('wireBytes') < report.length,
    });
  }

  for (const coding of ['gzip', 'br', 'zstd']) {
    const res = http.get(`${base}/packed/${coding}`);
    check(res, {
      [`a ${coding} response is decoded for the script`]: (r) =>
        r.headers['Content-Encoding'] === coding && r.json('coding') === coding && r.json('poem').startsWith('so much depends'),
    });
  }
}
