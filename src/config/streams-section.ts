import { z } from 'zod';
import { nonEmptyString, section } from './config-values.ts';

/**
 * `streams:`, deployment overrides of the registry's stream bindings. The registry says which
 * topics feed which features; the config says which brokers this deployment talks to, so one
 * registry runs unchanged in several environments:
 *
 * ```yaml
 * streams:
 *   client_event:
 *     connection: {url: "redis://redis.internal:6379"}
 *     options: {consumerName: ingest-1, concurrency: {max: 64}}
 *     group: larder-prod
 * ```
 *
 * `connection` and `options` are merged key by key over the registry's; `group` replaces it. Their
 * keys belong to the stream's adapter, which checks them when its consumer starts.
 */
export interface StreamOverride {
  readonly connection?: Readonly<Record<string, unknown>>;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly group?: string;
}

export type StreamOverrides = ReadonlyMap<string, StreamOverride>;

const adapterMap = section(z.record(z.string(), z.unknown(), { error: 'must be a map' }));

export const streamsSection = section(
  z.record(
    z.string(),
    section(
      z
        .object({
          connection: adapterMap.optional(),
          options: adapterMap.optional(),
          group: nonEmptyString.optional(),
        })
        .strict(),
    ),
    { error: 'must be a map of stream names' },
  ),
);

export type StreamsSection = z.output<typeof streamsSection>;

export function streamOverridesFrom(s: StreamsSection = {}): StreamOverrides {
  const out = new Map<string, StreamOverride>();
  for (const [name, override] of Object.entries(s)) {
    out.set(name, {
      ...(override.connection === undefined ? {} : { connection: override.connection }),
      ...(override.options === undefined ? {} : { options: override.options }),
      ...(override.group === undefined ? {} : { group: override.group }),
    });
  }
  return out;
}
