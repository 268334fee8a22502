import type { Registry } from './types.ts';

type Listener = (next: Registry, previous: Registry) => void;

/** Checks a registry before it is put in force; throws (a LarderError) to refuse it. */
export type RegistryGate = (next: Registry) => void;

/**
 * Holds the registry in force. A reload swaps the whole object at once, so a request or a batch
 * that read `current` keeps a consistent view even while a new registry is applied.
 *
 * All or nothing: `replace` first runs every gate (those of this holder and of the holders
 * derived from it). Parts of Larder that must be able to take a registry before anything switches
 * to it register one; the serving side registers the GraphQL schema build, so a registry the
 * schema cannot take changes nothing, neither the schema nor ingestion nor metrics. Only when
 * every gate passed are the holders and their listeners switched.
 */
export class RegistryHolder {
  #current: Registry;
  readonly #listeners = new Set<Listener>();
  readonly #gates = new Set<RegistryGate>();

  constructor(initial: Registry) {
    this.#current = initial;
  }

  get current(): Registry {
    return this.#current;
  }

  /** Puts `next` in force; throws the first gate's refusal, leaving everything as it was. */
  replace(next: Registry): void {
    this.check(next);
    const previous = this.#current;
    this.#current = next;
    for (const listener of this.#listeners) listener(next, previous);
  }

  /** Runs every gate on `next`; throws the first refusal. */
  check(next: Registry): void {
    for (const gate of this.#gates) gate(next);
  }

  /** Adds a check that every later `replace` must pass. Returns the function that removes it. */
  addGate(gate: RegistryGate): () => void {
    this.#gates.add(gate);
    return () => this.#gates.delete(gate);
  }

  /** Returns an unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * A holder that follows this one through `transform` (applied once per registry). Its gates
   * guard this holder's `replace` too, so a registry one of them refuses switches neither.
   */
  derive(transform: (registry: Registry) => Registry): RegistryHolder {
    const transformed = new WeakMap<Registry, Registry>();
    const map = (registry: Registry): Registry => {
      let result = transformed.get(registry);
      if (result === undefined) transformed.set(registry, (result = transform(registry)));
      return result;
    };
    const derived = new RegistryHolder(map(this.#current));
    this.addGate((next) => derived.check(map(next)));
    this.onChange((next) => derived.replace(map(next)));
    return derived;
  }
}
