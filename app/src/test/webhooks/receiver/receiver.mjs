// A webhook receiver for Sesame's tests. Every delivery is verified with the standardwebhooks package (an
// independent implementation of the Standard Webhooks specification) against each secret it was given; a delivery
// is kept when one verifies, with the indexes of the secrets that did (during a rotation Sesame signs with both).
//   node receiver.mjs PORT SECRET [SECRET…]     GET / → {"verified": [{id, type, payload, by}…], "rejected": n}
import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const [port, ...secrets] = process.argv.slice(2);
const webhooks = secrets.map((s) => new Webhook(s));
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
    let payload = null;
    const by = [];
    webhooks.forEach((webhook, index) => {
      try {
        payload = webhook.verify(body, req.headers);
        by.push(index);
      } catch {
        // not signed with this secret
      }
    });
    if (by.length > 0) {
      verified.push({ id: req.headers['webhook-id'], type: payload.type, payload, by });
      res.writeHead(204);
    } else {
      rejected += 1;
      res.writeHead(400);
    }
    res.end();
  });
}).listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));
