import http from 'node:http';

/**
 * An HTTP proxy in front of a DynamoDB-compatible endpoint (dynalite) that makes it slow and
 * makes it throttle, as a real table does under load: each request waits `delayMs`, and with
 * probability `throttleRate` is answered 400 ProvisionedThroughputExceededException without
 * reaching the table. Both can be changed while it runs ("the fault clears").
 */
export interface ChaosProxy {
  readonly endpoint: string;
  delayMs: number;
  throttleRate: number;
  /** Requests answered with a throttle so far. */
  readonly throttled: number;
  close(): Promise<void>;
}

export async function startChaosProxy(target: string): Promise<ChaosProxy> {
  const upstream = new URL(target);
  let throttled = 0;
  const proxy: ChaosProxy = {
    endpoint: '',
    delayMs: 0,
    throttleRate: 0,
    get throttled() {
      return throttled;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        if (Math.random() < proxy.throttleRate) {
          throttled++;
          res.writeHead(400, {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-errortype': 'ProvisionedThroughputExceededException',
          });
          res.end(
            JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
              message: 'The level of configured provisioned throughput for the table was exceeded.',
            }),
          );
          return;
        }
        const forward = http.request(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.on('error', () => res.destroy());
        forward.end(Buffer.concat(chunks));
      }, proxy.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  Object.defineProperty(proxy, 'endpoint', { value: `http://127.0.0.1:${port}` });
  return proxy;
}
