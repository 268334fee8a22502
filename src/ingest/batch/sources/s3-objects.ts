import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { LarderError } from '../../../errors.ts';
import { globBase, globToRegExp, hasGlob } from './glob.ts';
import type { ObjectSource, S3Options, SourceObject } from './object-source.ts';

/** `s3://bucket/key` → its parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  return slash === -1
    ? { bucket: rest, key: '' }
    : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

/**
 * S3 objects (or any S3-compatible store) through `@aws-sdk/client-s3`. A glob lists the keys
 * under its literal prefix and keeps the matches; reads are ranged GETs, so a task reads only its
 * own slice of a large object.
 */
export class S3Objects implements ObjectSource {
  readonly #client: S3Client;

  constructor(options: S3Options = {}) {
    const credentials =
      options.accessKeyId !== undefined && options.secretAccessKey !== undefined
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined;
    this.#client = new S3Client({
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
      ...(credentials === undefined ? {} : { credentials }),
    });
  }

  async list(pattern: string): Promise<SourceObject[]> {
    const { bucket, key } = parseS3Uri(pattern);
    const prefix = hasGlob(key) ? globBase(key) : key;
    const matcher = hasGlob(key) ? globToRegExp(key) : undefined;
    const found: SourceObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined || object.Key.endsWith('/')) continue;
          if (matcher === undefined ? object.Key !== key : !matcher.test(object.Key)) continue;
          found.push({
            uri: `s3://${bucket}/${object.Key}`,
            size: object.Size ?? 0,
            mtimeMs: object.LastModified?.getTime() ?? 0,
          });
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (cause) {
      throw this.#failure(`cannot list ${pattern}`, cause);
    }
    return found.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async *stream(uri: string, start: number, end: number): AsyncIterable<Uint8Array> {
    if (end <= start) return;
    const { bucket, key } = parseS3Uri(uri);
    let body: AsyncIterable<Uint8Array>;
    try {
      const response = await this.#client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
      );
      body = response.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (cause) {
      throw this.#failure(`cannot read ${uri}`, cause);
    }
    yield* body;
  }

  async read(uri: string, start: number, end: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.stream(uri, start, end)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  #failure(message: string, cause: unknown): LarderError {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    return new LarderError('LARDER_ERR_BATCH_SOURCE', `${message}: ${reason}`, { cause });
  }
}
