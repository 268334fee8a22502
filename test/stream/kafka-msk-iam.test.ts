import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kafkaClientSecurity, mskIamToken } from '../../src/ingest/stream/kafka-security.ts';

/**
 * The MSK IAM token (SASL OAUTHBEARER on MSK's port 9098). No MSK here: the token is checked the
 * way the broker checks it, by recomputing the SigV4 query signature by hand (AWS's documented
 * algorithm, node:crypto only) and comparing it with the one in the token.
 */
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session/token+1=',
};

function decode(token: string): URL {
  expect(token).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(token, 'base64url').toString('utf8'));
}

const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 of a presigned GET, recomputed from the URL's own query (all but the signature). */
function expectedSignature(url: URL, secret: string): string {
  const params = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature' && k !== 'User-Agent');
  const query = params
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [
    'GET',
    '/',
    query,
    `host:${url.host}`,
    '',
    'host',
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const date = url.searchParams.get('X-Amz-Date')!;
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  );
  const [day, region, service] = scope.split('/');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(day!).digest();
  for (const part of [region!, service!, 'aws4_request'])
    key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('MSK IAM token', () => {
  it('is a base64url SigV4-presigned kafka-cluster:Connect URL that verifies', async () => {
    const now = new Date('2026-12-05T12:34:56Z');
    const url = decode(await mskIamToken('eu-west-1', async () => CREDENTIALS, now));
    expect(url.origin).toBe('https://kafka.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('kafka-cluster:Connect');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261205/eu-west-1/kafka-cluster/aws4_request');
    expect(q.get('X-Amz-Date')).toBe('20261205T123456Z');
    expect(q.get('X-Amz-Expires')).toBe('900');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host');
    expect(q.get('X-Amz-Security-Token')).toBe(CREDENTIALS.sessionToken);
    expect(q.get('User-Agent')).toBe('larder-kafka');
    expect(q.get('X-Amz-Signature')).toBe(expectedSignature(url, CREDENTIALS.secretAccessKey));
    // Another secret would not verify: the check above can fail.
    expect(q.get('X-Amz-Signature')).not.toBe(expectedSignature(url, 'another-secret'));
  });

  it('AWS_MSK_IAM becomes OAUTHBEARER over TLS, with a token provider', () => {
    const security = kafkaClientSecurity(
      'events',
      {
        tls: {
          caFile: undefined,
          certFile: undefined,
          keyFile: undefined,
          keyPasswordEnv: undefined,
          serverName: undefined,
        },
        sasl: {
          mechanism: 'AWS_MSK_IAM',
          username: undefined,
          passwordEnv: undefined,
          tokenEnv: undefined,
          region: undefined,
        },
      },
      { AWS_REGION: 'ap-south-1' },
    );
    expect(security.tls).toEqual({});
    expect(security.sasl?.mechanism).toBe('OAUTHBEARER');
    expect(typeof security.sasl?.token).toBe('function');
  });

  it('needs a region', () => {
    expect(() =>
      kafkaClientSecurity(
        'events',
        {
          tls: undefined,
          sasl: {
            mechanism: 'AWS_MSK_IAM',
            username: undefined,
            passwordEnv: undefined,
            tokenEnv: undefined,
            region: undefined,
          },
        },
        {},
      ),
    ).toThrow(/streams\.events\.connection\.sasl\.region must be set for AWS_MSK_IAM/);
  });
});
