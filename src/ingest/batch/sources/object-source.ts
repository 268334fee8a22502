/**
 * Where batch input bytes come from: local files or S3 objects, behind one small contract so the
 * readers and the task split never know which. Only `s3-objects.ts` imports the AWS SDK.
 */
export interface SourceObject {
  /** Absolute local path, or `s3://bucket/key`. */
  readonly uri: string;
  readonly size: number;
  /** Last-modified time, epoch ms. */
  readonly mtimeMs: number;
}

export interface ObjectSource {
  /** Objects matching a path or glob, sorted by uri. */
  list(pattern: string): Promise<SourceObject[]>;
  /** The bytes `[start, end)` of an object, as a stream of chunks. */
  stream(uri: string, start: number, end: number): AsyncIterable<Uint8Array>;
  /** The bytes `[start, end)` of an object, at once (footers, small windows). */
  read(uri: string, start: number, end: number): Promise<Uint8Array>;
}

/** S3 connection settings, from the config file (`batch.s3`) or the standard AWS_* variables. */
export interface S3Options {
  readonly endpoint?: string;
  readonly region?: string;
  /** Path-style URLs (`http://host/bucket/key`), needed by s3rver, MinIO and most local S3s. */
  readonly forcePathStyle?: boolean;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

export function isS3Uri(uri: string): boolean {
  return uri.startsWith('s3://');
}
