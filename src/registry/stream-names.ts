import type { Registry } from './types.ts';

const known = new WeakMap<Registry, ReadonlySet<string>>();

/**
 * The streams events can be sent to: those declared under `streams:` and those a feature's events
 * name (an undeclared stream is an HTTP-push stream with defaults). Computed once per registry.
 */
export function knownStreams(registry: Registry): ReadonlySet<string> {
  let names = known.get(registry);
  if (names === undefined) {
    const all = new Set(registry.streams.keys());
    for (const feature of registry.features)
      for (const binding of feature.events) all.add(binding.streamName);
    known.set(registry, (names = all));
  }
  return names;
}
