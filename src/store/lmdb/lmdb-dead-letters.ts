import type { DeadLetter, DeadLetterStore, NewDeadLetter } from '../dead-letters.ts';
import { committed } from './lmdb-commit-failures.ts';
import type { LmdbEnv } from './lmdb-env.ts';

export interface LmdbDeadLetterStoreOptions {
  /** Clock for ids and default `at`. Default `Date.now`. */
  readonly now?: () => number;
}

/** Stored without its id: the id is the key. */
type StoredDeadLetter = Omit<DeadLetter, 'id'>;

const TIME_DIGITS = 15;
const SEQ_DIGITS = 6;
const MAX_SEQ = 10 ** SEQ_DIGITS - 1;
const DEFAULT_LIST_LIMIT = 100;

/**
 * The dead-letter table in the embedded LMDB environment. Ids are `<ms>-<seq>`, zero-padded
 * (`000001700000000123-000004`), so string order is insertion order and `list` pages with `after`.
 * Ids never go backwards, even when the clock does: a new id takes the later of now and the last
 * id's time. One process writes dead letters per environment (LMDB serialises the writes, but two
 * processes could mint the same id in the same millisecond).
 */
export class LmdbDeadLetterStore implements DeadLetterStore {
  readonly #env: LmdbEnv;
  readonly #now: () => number;
  #lastMs = -1;
  #lastSeq = -1;

  constructor(env: LmdbEnv, options: LmdbDeadLetterStoreOptions = {}) {
    this.#env = env;
    this.#now = options.now ?? Date.now;
    const lastKey = [...env.deadLetters.getKeys({ reverse: true, limit: 1 })][0];
    if (typeof lastKey === 'string') {
      const [ms, seq] = lastKey.split('-');
      this.#lastMs = Number(ms);
      this.#lastSeq = Number(seq);
    }
  }

  /** Stores the entries in one durable transaction and returns them with their ids. */
  async add(entries: readonly NewDeadLetter[]): Promise<DeadLetter[]> {
    if (entries.length === 0) return [];
    const now = this.#now();
    const added = entries.map((entry): DeadLetter => ({
      ...entry,
      id: this.#nextId(now),
      at: entry.at ?? now,
    }));
    await committed(
      this.#env.path,
      this.#env.root.transaction(() => {
        for (const letter of added) {
          const { id, ...stored } = letter;
          this.#env.deadLetters.putSync(id, stored satisfies StoredDeadLetter);
        }
      }),
    );
    await this.#env.flushed();
    return added;
  }

  async list(options: { readonly limit?: number; readonly after?: string } = {}): Promise<DeadLetter[]> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (limit <= 0) return [];
    const range =
      options.after === undefined ? { limit } : { start: options.after, exclusiveStart: true, limit };
    const letters: DeadLetter[] = [];
    for (const { key, value } of this.#env.deadLetters.getRange(range)) {
      letters.push(toDeadLetter(key as string, value));
    }
    return letters;
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const value = this.#env.deadLetters.get(id);
    return value === undefined ? undefined : toDeadLetter(id, value);
  }

  /** Deletes the given ids in one durable transaction; returns how many existed. */
  async remove(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const removed = await committed(
      this.#env.path,
      this.#env.root.transaction(() => {
        let n = 0;
        for (const id of ids) if (this.#env.deadLetters.removeSync(id)) n++;
        return n;
      }),
    );
    await this.#env.flushed();
    return removed;
  }

  async count(): Promise<number> {
    // The entry count LMDB keeps for the database: O(1), no scan.
    return (this.#env.deadLetters.getStats() as { entryCount: number }).entryCount;
  }

  #nextId(now: number): string {
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#lastSeq = 0;
    } else if (this.#lastSeq >= MAX_SEQ) {
      // A full millisecond: borrow the next one rather than outgrow the padded width.
      this.#lastMs++;
      this.#lastSeq = 0;
    } else {
      this.#lastSeq++;
    }
    return `${String(this.#lastMs).padStart(TIME_DIGITS, '0')}-${String(this.#lastSeq).padStart(SEQ_DIGITS, '0')}`;
  }
}

function toDeadLetter(id: string, value: unknown): DeadLetter {
  return { id, ...(value as StoredDeadLetter) };
}
