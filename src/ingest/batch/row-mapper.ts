import { isLarderError } from '../../errors.ts';
import type { StoreWrite } from '../../store/online-store.ts';
import { compileMapping } from '../aggregator.ts';
import { depthProblem } from '../event-bounds.ts';
import { compileIdentityReader } from '../event-identity.ts';
import type { IncomingEvent } from '../types.ts';
import type { JobSpec, TaskSlice } from './jobs/job-types.ts';
import { BadRecord } from './readers/record-batch.ts';

export type RowOutcome =
  | { readonly outcome: 'written'; readonly write: StoreWrite }
  | { readonly outcome: 'filtered' }
  | { readonly outcome: 'rejected'; readonly code: string; readonly reason: string };

export type RowMapper = (row: unknown) => RowOutcome;

const FILTERED: RowOutcome = Object.freeze({ outcome: 'filtered' });

/**
 * Compiles the mapping of one ingestion for one slice: the stream language's aggregator (filter,
 * dotted paths, rename, type coercion, the write the feature's type needs) applied to each row, as
 * if the row were an event of a stream bound to exactly this feature.
 *
 * Row identity, which is what makes re-runs idempotent:
 * - time: `timestampField` of the row; without one, the source file's last-modified time (so the
 *   same file always yields the same timestamps, and a newer file's values win);
 * - id: `eventIdField` of the row; without one, a hash of the row's canonical JSON.
 *
 * `from`/`to` keep only rows with `from <= ts < to`; the others count as filtered.
 */
export function compileRowMapper(spec: JobSpec, slice: TaskSlice): RowMapper {
  const { ingestion, feature, entity, from, to } = spec;
  const mapping = compileMapping({
    entity,
    feature,
    binding: { filter: ingestion.filter, fields: ingestion.fields, op: 'add' },
    entityIdPath: ingestion.entityIdField,
  });
  const identityOf = compileIdentityReader({
    timestampField: ingestion.timestampField,
    eventIdField: ingestion.eventIdField,
  });
  const stream = `batch:${ingestion.name}`;
  const inRange =
    from === undefined && to === undefined
      ? undefined
      : (ts: number): boolean => (from === undefined || ts >= from) && (to === undefined || ts < to);

  return (row) => {
    if (row instanceof BadRecord)
      return { outcome: 'rejected', code: 'LARDER_ERR_BATCH_ROW', reason: row.reason };
    const tooDeep = depthProblem(row);
    if (tooDeep !== undefined)
      return { outcome: 'rejected', code: 'LARDER_ERR_EVENT_TOO_DEEP', reason: tooDeep };
    const body = row as Record<string, unknown>;
    const event: IncomingEvent = { stream, topic: ingestion.name, body, receivedAt: slice.mtimeMs };
    let identity;
    try {
      identity = identityOf(event, body);
    } catch (err) {
      if (!isLarderError(err)) throw err;
      return { outcome: 'rejected', code: err.code, reason: err.message };
    }
    if (inRange !== undefined && !inRange(identity.ts)) return FILTERED;
    const outcome = mapping.map(body, identity);
    if (outcome.outcome === 'rejected') {
      return { outcome: 'rejected', code: outcome.rejection.code, reason: outcome.rejection.message };
    }
    return outcome;
  };
}
