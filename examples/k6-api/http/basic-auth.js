// Basic authentication three ways against the counter's /vault/basic: credentials in the
// URL, an Authorization header encoded with k6/encoding, and `auth: 'basic'`. A wrong
// passphrase must be refused.
import http from 'k6/http';
import encoding from 'k6/encoding';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const who = { name: 'ada', secret: 'analytical-engine' };
const vault = `${__ENV.BASE_URL}/vault/basic`;

// withUser puts user:secret into a URL's authority: http://host -> http://user:secret@host.
const withUser = (url, name, secret) => url.replace('://', `://${name}:${secret}@`);

export default function () {
  const inUrl = http.get(withUser(vault, who.name, who.secret));
  check(inUrl, {
    'credentials in the URL open the vault': (r) => r.status === 200,
    'the vault names the user from the URL': (r) => r.json('user') === who.name && r.json('scheme') === 'basic',
  });

  const token = encoding.b64encode(`${who.name}:${who.secret}`);
  check(token, { 'b64encode gives the standard base64 of user:secret': (t) => t === 'YWRhOmFuYWx5dGljYWwtZW5naW5l' });
  const byHeader = http.get(vault, { headers: { Authorization: `Basic ${token}` } });
  check(byHeader, {
    'a hand-made Authorization header opens the vault': (r) => r.status === 200 && r.json('user') === who.name,
    'the request carried that header': (r) => r.request.headers['Authorization'][0] === `Basic ${token}`,
  });

  const explicit = http.get(withUser(vault, who.name, who.secret), { auth: 'basic' });
  check(explicit, { "auth: 'basic' does the same": (r) => r.status === 200 && r.json('user') === who.name });

  // A refusal is expected here: tell k6/http a 401 is the expected answer.
  const refused = http.get(withUser(vault, who.name, 'difference-engine'), {
    responseCallback: http.expectedStatuses(401),
  });
  check(refused, {
    'a wrong secret is refused': (r) => r.status === 401,
    'the refusal names the scheme': (r) => r.headers['Www-Authenticate'] === 'Basic realm="vault"',
  });

  const anonymous = http.get(vault, { responseCallback: http.expectedStatuses(401) });
  check(anonymous, { 'no credentials, no entry': (r) => r.status === 401 });
}
