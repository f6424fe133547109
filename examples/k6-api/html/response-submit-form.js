// res.submitForm(): read a hidden value off the page (correlation), then send the sign-in
// form with fields filled in, with another submit button, and a GET form with a multi-value
// field. The site echoes what it received.
import http from 'k6/http';
import { check } from 'k6';

export default function () {
  const page = http.get(`${__ENV.BASE_URL}/account`);

  const nonce = page.html().find('#signin input[name=nonce]').attr('value');
  check(nonce, { 'the page carries a nonce': (n) => n === 'n-7731' });

  const signedIn = page.submitForm({
    formSelector: '#signin',
    fields: { email: 'lin@example.test', passphrase: 'tulip bulb' },
  });
  check(signedIn, {
    'the form was posted to its action': (r) => r.status === 200 && r.url === `${__ENV.BASE_URL}/account/session`,
    'the hidden nonce and the default button went along': (r) =>
      r.body === 'POST /account/session email=lin%40example.test&passphrase=tulip+bulb&nonce=n-7731&via=password',
  });

  const withKey = page.submitForm({
    formSelector: '#signin',
    submitSelector: 'button.passkey',
    fields: { email: 'lin@example.test' },
  });
  check(withKey, {
    'submitSelector picks the button that is sent': (r) => r.body.endsWith('&via=passkey'),
  });

  const subscribed = page.submitForm({
    formSelector: '#newsletter',
    fields: { topics: ['roses', 'ferns'] },
  });
  check(subscribed, {
    'a GET form puts the fields in the query string': (r) =>
      r.body === 'GET /account/subscribe?email=guest%40example.test&topics=roses&topics=ferns ',
  });
}
