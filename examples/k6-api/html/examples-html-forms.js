import http from 'k6/http';
import { sleep } from 'k6';

export default function () {
  // Request page containing a form
  let res = http.get(`${__ENV.BASE_URL}/admin`);

  // Now, submit form setting/overriding some fields of the form
  res = res.submitForm({
    formSelector: 'form',
    fields: { username: 'admin', password: 'admin' },
  });
  sleep(3);
}
