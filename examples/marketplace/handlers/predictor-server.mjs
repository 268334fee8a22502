// The category predictor as a synchronous HTTP service, for the `http` enrichment handler:
// `POST /predict` with the input as JSON answers the result as JSON; anything else is a 4xx.
//
//   node examples/marketplace/handlers/predictor-server.mjs [--port 8090]
//
// `larder demo` starts it on a free port and points PREDICTOR_URL at it.
import process from 'node:process';
import { createServer } from 'node:http';
import { predictCategory } from './category-model.mjs';

const flag = process.argv.indexOf('--port');
const port = Number(flag === -1 ? (process.env.PORT ?? 8090) : process.argv[flag + 1]);

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/predict') {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"POST /predict"}');
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    let input;
    try {
      input = JSON.parse(body);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"the body is not JSON"}');
      return;
    }
    if (typeof input?.title !== 'string') {
      res
        .writeHead(422, { 'content-type': 'application/json' })
        .end('{"error":"input.title must be a string"}');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(predictCategory(input.title)));
  });
});
server.listen(port, '127.0.0.1', () =>
  process.stderr.write(`category predictor listening on ${server.address().port}\n`),
);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
