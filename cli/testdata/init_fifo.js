// An init context blocked in open() on a FIFO that never gets data (fault_unix_test.go).
console.log('init started ' + __VU);
const data = open(__ENV.FIFO);
export default function () {}
