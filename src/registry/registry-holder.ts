import type { Registry } from './types.ts';

type Listener = (next: Registry, previous: Registry) => void;

/**
 * Holds the registry in force. A reload swaps the whole object at once, so a request or a batch
 * that read `current` keeps a consistent view even while a new registry is applied.
 */
export class RegistryHolder {
  #current: Registry;
  readonly #listeners = new Set<Listener>();

  constructor(initial: Registry) {
    this.#current = initial;
  }

  get current(): Registry {
    return this.#current;
  }

  replace(next: Registry): void {
    const previous = this.#current;
    this.#current = next;
    for (const listener of this.#listeners) listener(next, previous);
  }

  /** Returns an unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
