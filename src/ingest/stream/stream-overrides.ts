import type { StreamOverrides } from '../../config/streams-section.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { Registry, StreamDef } from '../../registry/types.ts';

/**
 * Deployment overrides of stream bindings, from the config file's `streams:` section (see
 * src/config/streams-section.ts): `connection` and `options` are merged key by key over the
 * registry's; `group` replaces it. Overrides naming a stream the registry lacks change nothing.
 */
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
  return source.derive((next) => applyStreamOverrides(next, overrides));
}
