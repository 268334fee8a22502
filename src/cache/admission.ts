/**
 * Admission policies for the in-process level: whether a loaded entry is worth memory. Without
 * one, every key read once (a long tail of candidates scored once) pushes hot keys out.
 */
export interface AdmissionPolicy {
  /** Records one read of `pk` (hit or miss). */
  recordRead(pk: string): void;
  /** Whether an entry for `pk` may be stored now. */
  admit(pk: string): boolean;
}

export const admitAll: AdmissionPolicy = {
  recordRead() {},
  admit: () => true,
};

/**
 * Admit on the second read: a key is stored only once it was read at least twice within a recent
 * window. The window is two generations of read counts, each at most `window` keys; when the
 * current one fills up it becomes the previous one and the oldest is dropped, so memory stays
 * bounded and stale counts age out (the "doorkeeper" idea of TinyLFU, without the sketch).
 */
export class SecondReadAdmission implements AdmissionPolicy {
  readonly #window: number;
  #current = new Map<string, number>();
  #previous = new Map<string, number>();

  constructor(window = 100_000) {
    this.#window = window;
  }

  recordRead(pk: string): void {
    const seen = this.#current.get(pk) ?? this.#previous.get(pk) ?? 0;
    if (seen >= 2) {
      if (!this.#current.has(pk)) this.#set(pk, 2);
      return;
    }
    this.#set(pk, seen + 1);
  }

  admit(pk: string): boolean {
    return (this.#current.get(pk) ?? this.#previous.get(pk) ?? 0) >= 2;
  }

  #set(pk: string, count: number): void {
    if (!this.#current.has(pk) && this.#current.size >= this.#window) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(pk, count);
  }
}
