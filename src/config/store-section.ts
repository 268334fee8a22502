import path from 'node:path';
import { z } from 'zod';
import { nonEmptyString, section, urlWith } from './config-values.ts';

/**
 * `store:`, the online store this process reads and writes:
 *
 * ```yaml
 * store:
 *   type: dynamodb                   # lmdb (default) | dynamodb
 *   path: ./data                     # lmdb: data directory (relative to this file; default --data)
 *   table: larder                    # dynamodb (default larder)
 *   endpoint: http://127.0.0.1:8000  # dynamodb, optional: a DynamoDB-compatible endpoint
 *   region: us-east-1                # dynamodb (default: AWS_REGION, else us-east-1)
 * ```
 */
export interface StoreConfig {
  readonly type: 'lmdb' | 'dynamodb';
  /** lmdb: data directory, absolute. Undefined: the `--data` directory. */
  readonly path: string | undefined;
  readonly table: string;
  readonly endpoint: string | undefined;
  readonly region: string;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export const storeSection = section(
  z
    .object({
      type: z.enum(['lmdb', 'dynamodb'], { error: 'must be lmdb or dynamodb' }).optional(),
      path: nonEmptyString.optional(),
      table: z
        .string({ error: 'must be a string' })
        .regex(TABLE_NAME, { error: 'must be 3-255 characters of letters, digits, _ . -' })
        .optional(),
      endpoint: urlWith(['http', 'https']).optional(),
      region: nonEmptyString.optional(),
    })
    .strict(),
);

export type StoreSection = z.output<typeof storeSection>;

/** Defaults applied; `store.path` resolved against `baseDir` (the config file's directory). */
export function storeConfigFrom(
  s: StoreSection = {},
  baseDir: string,
  env: Readonly<Record<string, string | undefined>>,
): StoreConfig {
  return {
    type: s.type ?? 'lmdb',
    path: s.path === undefined ? undefined : path.resolve(baseDir, s.path),
    table: s.table ?? 'larder',
    endpoint: s.endpoint,
    region: s.region ?? (env.AWS_REGION?.trim() || 'us-east-1'),
  };
}
