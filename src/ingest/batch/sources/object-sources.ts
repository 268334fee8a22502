import { LocalObjects } from './local-objects.ts';
import { isS3Uri, type ObjectSource, type S3Options } from './object-source.ts';
import { S3Objects } from './s3-objects.ts';

/** Picks the object source for a uri or pattern; one S3 client per set of options. */
export class ObjectSources {
  private readonly local = new LocalObjects();
  private s3: S3Objects | undefined;

  constructor(private readonly s3Options: S3Options = {}) {}

  for(uri: string): ObjectSource {
    if (!isS3Uri(uri)) return this.local;
    this.s3 ??= new S3Objects(this.s3Options);
    return this.s3;
  }
}
