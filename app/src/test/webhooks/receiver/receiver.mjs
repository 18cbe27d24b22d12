// A webhook receiver for Sesame's tests. Every delivery is verified with the standardwebhooks package (an
// independent implementation of the Standard Webhooks specification); verified ones are kept in order of arrival.
//   node receiver.mjs PORT SECRET      GET / → {"verified": [{id, type, payload}…], "rejected": n}
import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const [port, secret] = process.argv.slice(2);
const webhook = new Webhook(secret);
const verified = [];
let rejected = 0;

http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ verified, rejected }));
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    try {
      const payload = webhook.verify(body, req.headers);
      verified.push({ id: req.headers['webhook-id'], type: payload.type, payload });
      res.writeHead(204);
    } catch (error) {
      rejected += 1;
      res.writeHead(400);
    }
    res.end();
  });
}).listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));
