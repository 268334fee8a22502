import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { LarderError } from '../../errors.ts';
import type { KafkaSecurity } from '../../registry/stream-options.ts';

/** What every `@platformatic/kafka` client of a stream gets: TLS and SASL, or nothing. */
export interface KafkaClientSecurity {
  tls?: TlsOptions;
  tlsServerName?: string;
  sasl?: {
    mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';
    username?: string;
    password?: string;
    token?: () => Promise<string>;
    authBytesValidator?: (authBytes: Buffer, callback: (error: Error | null, bytes?: Buffer) => void) => void;
  };
}

/**
 * Turns `connection.tls`/`connection.sasl` into client options, when a consumer starts: reads the
 * PEM files and the environment variables they name. A missing file or variable is a
 * `LARDER_ERR_STREAM_OPTION` naming the setting, before any connection is tried.
 */
export function kafkaClientSecurity(
  stream: string,
  security: KafkaSecurity,
  env: Readonly<Record<string, string | undefined>> = process.env,
): KafkaClientSecurity {
  const at = (key: string): string => `streams.${stream}.connection.${key}`;
  const fromEnv = (name: string, key: string): string => {
    const value = env[name];
    if (value === undefined || value === '')
      throw new LarderError(
        'LARDER_ERR_STREAM_OPTION',
        `${at(key)} names the environment variable ${name}, which is not set`,
        { details: { option: at(key) } },
      );
    return value;
  };
  const file = (path: string, key: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new LarderError(
        'LARDER_ERR_STREAM_OPTION',
        `${at(key)}: cannot read ${path}: ${(err as Error).message}`,
        { cause: err, details: { option: at(key) } },
      );
    }
  };

  const out: KafkaClientSecurity = {};
  const { tls, sasl } = security;
  if (tls !== undefined) {
    const options: TlsOptions = {};
    if (tls.caFile !== undefined) options.ca = file(tls.caFile, 'tls.ca');
    if (tls.certFile !== undefined) options.cert = file(tls.certFile, 'tls.cert');
    if (tls.keyFile !== undefined) options.key = file(tls.keyFile, 'tls.key');
    if (tls.keyPasswordEnv !== undefined)
      options.passphrase = fromEnv(tls.keyPasswordEnv, 'tls.keyPasswordEnv');
    out.tls = options;
    if (tls.serverName !== undefined) out.tlsServerName = tls.serverName;
  }
  if (sasl !== undefined) {
    switch (sasl.mechanism) {
      case 'PLAIN':
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        out.sasl = {
          mechanism: sasl.mechanism,
          username: sasl.username!,
          password: fromEnv(sasl.passwordEnv!, 'sasl.passwordEnv'),
        };
        break;
      case 'OAUTHBEARER': {
        const name = sasl.tokenEnv!;
        fromEnv(name, 'sasl.tokenEnv'); // set at start; read again on each connection (rotation)
        out.sasl = {
          mechanism: 'OAUTHBEARER',
          token: async () => fromEnv(name, 'sasl.tokenEnv'),
          authBytesValidator: refusedToken,
        };
        break;
      }
      case 'AWS_MSK_IAM': {
        const region = sasl.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
        if (region === undefined)
          throw new LarderError(
            'LARDER_ERR_STREAM_OPTION',
            `${at('sasl.region')} must be set for AWS_MSK_IAM (or AWS_REGION in the environment)`,
            { details: { option: at('sasl.region') } },
          );
        const credentials = defaultProvider();
        out.sasl = {
          mechanism: 'OAUTHBEARER',
          token: () => mskIamToken(region, credentials),
          authBytesValidator: refusedToken,
        };
        break;
      }
    }
  }
  return out;
}

/**
 * OAUTHBEARER: a broker that refuses a token answers with a JSON challenge
 * (`{"status":"invalid_token"}`) instead of an error code; without this check the client would
 * take it for a success and the broker would then drop the connection, which reads as an outage.
 */
function refusedToken(authBytes: Buffer, callback: (error: Error | null, bytes?: Buffer) => void): void {
  if (authBytes.length === 0) {
    callback(null, authBytes);
    return;
  }
  let status: unknown;
  try {
    status = (JSON.parse(authBytes.toString('utf8')) as { status?: unknown }).status;
  } catch {
    status = undefined;
  }
  if (status !== undefined && status !== 'success') {
    callback(new Error(`the broker refused the OAUTHBEARER token (${authBytes.toString('utf8')})`));
    return;
  }
  callback(null, authBytes);
}

/** The bits of an AWS credential the signer needs. */
export type AwsCredentials = () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}>;

/**
 * An MSK IAM authentication token, as AWS's `aws-msk-iam-sasl-signer-js` makes it: a SigV4
 * presigned `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect` (service
 * `kafka-cluster`, valid 15 minutes), base64url without padding. The broker checks the signature
 * and the IAM policy of the signing identity. One is made per connection.
 */
export async function mskIamToken(
  region: string,
  credentials: AwsCredentials,
  now = new Date(),
): Promise<string> {
  const hostname = `kafka.${region}.amazonaws.com`;
  const signer = new SignatureV4({ service: 'kafka-cluster', region, credentials, sha256: NodeSha256 });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'kafka-cluster:Connect' },
      headers: { host: hostname },
    },
    { expiresIn: 900, signingDate: now },
  );
  const query = { ...signed.query, 'User-Agent': 'larder-kafka' };
  const search = Object.keys(query)
    .sort()
    .map((k) => `${escapeUri(k)}=${escapeUri(String(query[k as keyof typeof query]))}`)
    .join('&');
  return Buffer.from(`https://${hostname}/?${search}`).toString('base64url');
}

function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** SHA-256 (HMAC with a secret) on node:crypto, in the shape the SigV4 signer asks for. */
class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

/** TLS verification failures: the broker's certificate is not the one this connection trusts. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;

/** Whether `err` (or an error it wraps) is a refused authentication or a failed TLS handshake. */
export function isKafkaAuthFailure(err: unknown, seen = new Set<unknown>()): boolean {
  if (typeof err !== 'object' || err === null || seen.has(err)) return false;
  seen.add(err);
  const e = err as { name?: unknown; code?: unknown; cause?: unknown; errors?: unknown };
  if (e.code === 'PLT_KFK_AUTHENTICATION' || e.name === 'AuthenticationError') return true;
  if (typeof e.code === 'string' && TLS_CODES.test(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isKafkaAuthFailure(inner, seen))) return true;
  return isKafkaAuthFailure(e.cause, seen);
}

/** The innermost message of an error chain: where the client's wrappers say what really went wrong. */
function rootMessage(err: unknown): string {
  let current = err as { message?: unknown; cause?: unknown; errors?: unknown } | undefined;
  let message = String(err);
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth += 1) {
    if (typeof current.message === 'string' && current.message !== '') message = current.message;
    const next: unknown =
      current.cause ?? (Array.isArray(current.errors) ? (current.errors[0] as unknown) : undefined);
    current = typeof next === 'object' && next !== null ? (next as typeof current) : undefined;
  }
  return message.replace(/\.$/, '');
}

/**
 * The error a Kafka client of stream `stream` failed to start with, naming the stream, the
 * brokers and how it connected: `LARDER_ERR_STREAM_AUTH` when the brokers refused its
 * credentials or certificate, else `LARDER_ERR_STREAM_CONNECTION`. A `LarderError` passes through.
 */
export function kafkaStartError(
  where: { readonly stream: string; readonly brokers: readonly string[]; readonly securityLabel: string },
  what: string,
  err: unknown,
): LarderError {
  if (err instanceof LarderError) return err;
  const at = `${where.brokers.join(',')} (${where.securityLabel})`;
  if (isKafkaAuthFailure(err)) {
    return new LarderError(
      'LARDER_ERR_STREAM_AUTH',
      `stream ${where.stream}: the Kafka brokers at ${at} refused the connection of ${what}: ` +
        `${rootMessage(err)}; check streams.${where.stream}.connection.sasl/tls and the credentials`,
      { cause: err, details: { stream: where.stream } },
    );
  }
  return new LarderError(
    'LARDER_ERR_STREAM_CONNECTION',
    `stream ${where.stream}: ${what} at ${at}: ${String(err)}`,
    { cause: err, details: { stream: where.stream } },
  );
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
