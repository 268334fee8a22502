import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { LarderError } from '../../errors.ts';
import { RegistryHolder } from '../../registry/registry-holder.ts';
import type { Registry, StreamDef } from '../../registry/types.ts';

/**
 * Deployment overrides for stream bindings, read from `larder ingest --config <file>` (YAML or
 * JSON): the registry says which topics feed which features; the config says which brokers this
 * deployment talks to, so one registry runs unchanged in several environments.
 *
 * ```yaml
 * streams:
 *   client_event:
 *     connection: {url: "redis://redis.internal:6379"}
 *     options: {consumerName: ingest-1, concurrency: {max: 64}}
 * ```
 *
 * `connection` and `options` are merged key by key over the registry's; `group` replaces it.
 */
export interface StreamOverride {
  readonly connection?: Record<string, unknown>;
  readonly options?: Record<string, unknown>;
  readonly group?: string;
}

export type StreamOverrides = ReadonlyMap<string, StreamOverride>;

export async function readStreamOverrides(file: string): Promise<StreamOverrides> {
  let doc: unknown;
  try {
    doc = parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new LarderError('LARDER_ERR_CONFIG', `cannot read the config file ${file}: ${String(err)}`, {
      cause: err,
    });
  }
  const streams = isMap(doc) ? doc.streams : undefined;
  if (streams === undefined) return new Map();
  if (!isMap(streams))
    throw new LarderError('LARDER_ERR_CONFIG', `${file}: "streams" must be a map of stream names`);
  const out = new Map<string, StreamOverride>();
  for (const [name, value] of Object.entries(streams)) {
    if (!isMap(value)) throw new LarderError('LARDER_ERR_CONFIG', `${file}: streams.${name} must be a map`);
    for (const key of Object.keys(value)) {
      if (!['connection', 'options', 'group'].includes(key)) {
        throw new LarderError(
          'LARDER_ERR_CONFIG',
          `${file}: streams.${name}.${key} is not allowed (connection, options, group)`,
        );
      }
    }
    if (value.connection !== undefined && !isMap(value.connection)) {
      throw new LarderError('LARDER_ERR_CONFIG', `${file}: streams.${name}.connection must be a map`);
    }
    if (value.options !== undefined && !isMap(value.options)) {
      throw new LarderError('LARDER_ERR_CONFIG', `${file}: streams.${name}.options must be a map`);
    }
    if (value.group !== undefined && typeof value.group !== 'string') {
      throw new LarderError('LARDER_ERR_CONFIG', `${file}: streams.${name}.group must be a string`);
    }
    out.set(name, value as StreamOverride);
  }
  return out;
}

export function applyStreamOverrides(registry: Registry, overrides: StreamOverrides): Registry {
  if (overrides.size === 0) return registry;
  const streams = new Map<string, StreamDef>(registry.streams);
  for (const [name, override] of overrides) {
    const def = streams.get(name);
    if (def === undefined) continue;
    streams.set(name, {
      ...def,
      connection: { ...def.connection, ...override.connection },
      options: { ...def.options, ...override.options },
      group: override.group ?? def.group,
    });
  }
  return { ...registry, streams };
}

/** A holder that follows `source` and applies the overrides to every registry it holds. */
export function withStreamOverrides(source: RegistryHolder, overrides: StreamOverrides): RegistryHolder {
  if (overrides.size === 0) return source;
  const holder = new RegistryHolder(applyStreamOverrides(source.current, overrides));
  source.onChange((next) => holder.replace(applyStreamOverrides(next, overrides)));
  return holder;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
