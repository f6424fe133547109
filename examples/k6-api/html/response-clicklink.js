import http from 'k6/http';

export default function () {
  // Request page with links
  let res = http.get(`${__ENV.BASE_URL}/admin`);

  // Now, click the 4th link on the page
  res = res.clickLink({ selector: 'a:nth-child(1)' });
}
