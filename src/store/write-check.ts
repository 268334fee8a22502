import { LarderError } from '../errors.ts';
import { MAX_TS } from './lmdb/lmdb-rows.ts';
import type { StoreWrite } from './online-store.ts';

/**
 * LMDB keys are at most 1978 bytes; a row key holds pk and event id plus a few bytes of framing.
 * The limit here leaves room for that framing.
 */
export const MAX_KEY_BYTES = 1900;

const MUTATIONS_BY_CONTAINER = {
  single: ['set'],
  set: ['add', 'remove'],
  map: ['put', 'delete'],
} as const;

/**
 * Checks every write of a batch before any of it is applied. lmdb-js commits whatever a
 * transaction callback wrote before it threw, so validating first is what keeps a bad write from
 * leaving half a batch behind. Throws `LARDER_ERR_STORE_WRITE_INVALID` naming the write.
 */
export function checkWrites(writes: readonly StoreWrite[]): void {
  for (let i = 0; i < writes.length; i++) {
    const problem = writeProblem(writes[i] as StoreWrite);
    if (problem !== undefined) {
      throw new LarderError('LARDER_ERR_STORE_WRITE_INVALID', `store write #${i}: ${problem}`, {
        details: { index: i, pk: (writes[i] as StoreWrite).pk },
      });
    }
  }
}

/** Why the store would refuse `write`, or undefined: what `checkWrites` checks, for one write. */
export function writeProblem(write: StoreWrite): string | undefined {
  const keyProblem = keyPartProblem('pk', write.pk);
  if (keyProblem !== undefined) return keyProblem;
  if (!Number.isInteger(write.maxCount) || write.maxCount < 1) return `maxCount must be a positive integer`;
  if (write.ttlMs !== undefined && !(Number.isFinite(write.ttlMs) && write.ttlMs > 0)) {
    return `ttlMs must be a positive number or undefined`;
  }
  if (write.kind === 'action') {
    const { row } = write;
    if (!isTimestamp(row.ts)) return `row ts must be a finite epoch-ms number (not -0)`;
    const idProblem = keyPartProblem('eventId', row.eventId);
    if (idProblem !== undefined) return idProblem;
    if (Buffer.byteLength(write.pk) + Buffer.byteLength(row.eventId) > MAX_KEY_BYTES) {
      return `pk and eventId together exceed ${MAX_KEY_BYTES} bytes`;
    }
    if (typeof row.values !== 'object' || row.values === null) return `row values must be an object`;
    return undefined;
  }
  if (!isTimestamp(write.ts)) return `ts must be a finite epoch-ms number (not -0)`;
  const allowed: readonly string[] | undefined = MUTATIONS_BY_CONTAINER[write.container];
  if (allowed === undefined) return `unknown container ${String(write.container)}`;
  if (!allowed.includes(write.mutation.op)) {
    return `op ${write.mutation.op} does not apply to a ${write.container} value (use ${allowed.join(' or ')})`;
  }
  if (
    (write.mutation.op === 'put' || write.mutation.op === 'delete') &&
    typeof write.mutation.key !== 'string'
  ) {
    return `map key must be a string`;
  }
  return undefined;
}

function isTimestamp(ts: unknown): ts is number {
  // -0 is refused: LMDB keys encode it below every other number, where no range read finds it.
  return typeof ts === 'number' && Number.isFinite(ts) && Math.abs(ts) < MAX_TS && !Object.is(ts, -0);
}

function keyPartProblem(name: string, part: unknown): string | undefined {
  if (typeof part !== 'string' || part.length === 0) return `${name} must be a non-empty string`;
  if (Buffer.byteLength(part) > MAX_KEY_BYTES) return `${name} is longer than ${MAX_KEY_BYTES} bytes`;
  // Ordered-binary keys use NUL as the separator between array elements.
  if (part.includes('\u0000')) return `${name} must not contain NUL characters`;
  return undefined;
}
