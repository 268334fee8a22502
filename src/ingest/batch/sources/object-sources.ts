import { LocalObjects } from './local-objects.ts';
import { isS3Uri, type ObjectSource, type S3Options, type SourceObject } from './object-source.ts';
import type { S3Objects } from './s3-objects.ts';

/**
 * Picks the object source for a uri or pattern; one S3 client per set of options. The AWS SDK is
 * loaded on first use only, so local-only jobs (and every worker thread) start faster.
 */
export class ObjectSources {
  readonly #local = new LocalObjects();
  #s3: ObjectSource | undefined;

  readonly #s3Options: S3Options;
  constructor(s3Options: S3Options = {}) {
    this.#s3Options = s3Options;
  }

  for(uri: string): ObjectSource {
    if (!isS3Uri(uri)) return this.#local;
    this.#s3 ??= lazyS3(this.#s3Options);
    return this.#s3;
  }
}

function lazyS3(options: S3Options): ObjectSource {
  let loading: Promise<S3Objects> | undefined;
  const load = (): Promise<S3Objects> => {
    loading ??= import('./s3-objects.ts').then((m) => new m.S3Objects(options));
    return loading;
  };
  return {
    async list(pattern: string): Promise<SourceObject[]> {
      return (await load()).list(pattern);
    },
    async *stream(uri: string, start: number, end: number): AsyncIterable<Uint8Array> {
      yield* (await load()).stream(uri, start, end);
    },
    async read(uri: string, start: number, end: number): Promise<Uint8Array> {
      return (await load()).read(uri, start, end);
    },
  };
}
