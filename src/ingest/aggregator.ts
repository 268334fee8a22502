import { isLarderError, LarderError } from '../errors.ts';
import { partitionKey } from '../keys/keys.ts';
import type { EntityDef, EventBinding, FeatureDef, FieldDef } from '../registry/types.ts';
import type { StoreWrite } from '../store/online-store.ts';
import { writeProblem } from '../store/write-check.ts';
import { coerce } from './coerce.ts';
import { compileEntityIdReader, type EntityIdReader } from './entity-id.ts';
import type { EventIdentity } from './event-identity.ts';
import { compilePath, type PathReader } from './event-path.ts';
import { compileFilters, type EventPredicate } from './filter.ts';
import type { Rejection } from './types.ts';

/**
 * The aggregator: what one feature does with one event that was routed to it. Filter, extract each
 * field by its dotted path, rename, coerce to the declared type, then build the store write the
 * feature's type asks for. It never writes itself: the ingestor collects every write of a batch
 * and hands them to the store at once.
 */

/** What mapping one event for one feature produced. */
export type MapOutcome =
  | { readonly outcome: 'written'; readonly write: StoreWrite }
  | { readonly outcome: 'filtered' }
  | { readonly outcome: 'rejected'; readonly rejection: Rejection };

/** A binding compiled for one feature; reusable for every event routed through it. */
export interface FeatureMapping {
  /** `<entity>.<feature>`. */
  readonly featureKey: string;
  readonly feature: FeatureDef;
  readonly binding: MappingBinding;
  map(body: Record<string, unknown>, identity: EventIdentity): MapOutcome;
}

/**
 * The parts of a binding the mapping uses. A stream `EventBinding` has all of them; a batch
 * ingestion can build one from its own filter/fields without inventing a stream.
 */
export type MappingBinding = Pick<EventBinding, 'filter' | 'fields' | 'op'>;

export interface MappingInput {
  readonly entity: Pick<EntityDef, 'name' | 'prefix' | 'idType'>;
  readonly feature: FeatureDef;
  readonly binding: MappingBinding;
  /** Dotted path of the entity id: binding's entityIdField ?? stream's ?? entity's idField. */
  readonly entityIdPath: string;
}

const FILTERED: MapOutcome = Object.freeze({ outcome: 'filtered' });

interface CompiledField {
  readonly def: FieldDef;
  readonly read: PathReader;
}

/** Compiles a feature's binding into a mapping. Done once per registry, never per event. */
export function compileMapping(input: MappingInput): FeatureMapping {
  const { entity, feature, binding } = input;
  const featureKey = `${feature.entity}.${feature.name}`;
  const passes: EventPredicate = compileFilters(binding.filter);
  const readEntityId: EntityIdReader = compileEntityIdReader(entity, input.entityIdPath);
  const fields: CompiledField[] = binding.fields.map((def) => ({ def, read: compilePath(def.path) }));
  const build = compileWriteBuilder(feature, binding);

  const extract = (body: Record<string, unknown>): Record<string, unknown> => {
    const values: Record<string, unknown> = {};
    for (const { def, read } of fields) {
      const raw = read(body);
      if (raw === undefined || raw === null) {
        if (def.required) {
          throw new LarderError('LARDER_ERR_EVENT_MISSING_FIELD', `event lacks field "${def.path}"`, {
            details: { field: def.path },
          });
        }
        values[def.name] = null;
        continue;
      }
      values[def.name] = coerce(raw, def.type, def.path);
    }
    return values;
  };

  return {
    featureKey,
    feature,
    binding,
    map(body, identity) {
      try {
        if (!passes(body)) return FILTERED;
        const entityId = readEntityId(body);
        const values = extract(body);
        const write = build(partitionKey(entity, entityId, feature.name), values, identity);
        // What the store would refuse for the whole batch is refused here, for this event alone.
        const problem = writeProblem(write);
        if (problem !== undefined) {
          return {
            outcome: 'rejected',
            rejection: { code: 'LARDER_ERR_STORE_WRITE_INVALID', message: problem, feature: featureKey },
          };
        }
        return { outcome: 'written', write };
      } catch (err) {
        if (!isLarderError(err)) throw err;
        return {
          outcome: 'rejected',
          rejection: { code: err.code, message: err.message, feature: featureKey },
        };
      }
    },
  };
}

type WriteBuilder = (pk: string, values: Record<string, unknown>, identity: EventIdentity) => StoreWrite;

function compileWriteBuilder(feature: FeatureDef, binding: MappingBinding): WriteBuilder {
  const { maxCount, ttlMs } = feature;
  if (feature.featureType === 'action') {
    return (pk, values, { ts, eventId, eventTime }) => ({
      kind: 'action',
      pk,
      row: { ts, eventId, values },
      maxCount,
      ttlMs,
      stableTs: eventTime,
    });
  }
  const names = binding.fields.map((f) => f.name);
  switch (feature.containerType) {
    case 'single': {
      const valueOf = compileValueOf(names);
      return (pk, values, { ts }) => ({
        kind: 'static',
        pk,
        container: 'single',
        mutation: { op: 'set', value: valueOf(values) },
        ts,
        ttlMs,
        maxCount,
      });
    }
    case 'set': {
      const valueOf = compileValueOf(names);
      const op = binding.op;
      return (pk, values, { ts }) => ({
        kind: 'static',
        pk,
        container: 'set',
        mutation: { op, value: valueOf(values) },
        ts,
        ttlMs,
        maxCount,
      });
    }
    case 'map': {
      // The loader guarantees mapKey names a field; the first field is a defensive fallback.
      const keyName = feature.mapKey ?? names[0] ?? '';
      const valueOf = compileValueOf(names.filter((n) => n !== keyName));
      const remove = binding.op === 'remove';
      return (pk, values, { ts }) => {
        const key = values[keyName];
        if (key === null || key === undefined) {
          throw new LarderError('LARDER_ERR_EVENT_MISSING_FIELD', `event lacks the map key "${keyName}"`, {
            details: { field: keyName },
          });
        }
        const mapKey = typeof key === 'object' ? JSON.stringify(key) : String(key);
        return {
          kind: 'static',
          pk,
          container: 'map',
          mutation: remove
            ? { op: 'delete', key: mapKey }
            : { op: 'put', key: mapKey, value: valueOf(values) },
          ts,
          ttlMs,
          maxCount,
        };
      };
    }
  }
}

/** One field: the value itself. Several: an object of them. None: null (a bare presence marker). */
function compileValueOf(names: readonly string[]): (values: Record<string, unknown>) => unknown {
  if (names.length === 0) return () => null;
  if (names.length === 1) {
    const only = names[0] as string;
    return (values) => values[only];
  }
  return (values) => {
    const out: Record<string, unknown> = {};
    for (const name of names) out[name] = values[name];
    return out;
  };
}
