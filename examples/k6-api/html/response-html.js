import http from 'k6/http';

export default function () {
  const res = http.get(`${__ENV.BASE_URL}/links`);

  const doc = res.html();
  doc
    .find('link')
    .toArray()
    .forEach(function (item) {
      console.log(item.attr('href'));
    });
}
