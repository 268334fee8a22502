import { partitionKey } from '../../keys/keys.ts';
import type { ActionRow } from '../../store/online-store.ts';
import { canonicalEntityId } from '../entity-id.ts';
import type { EntityObject } from '../entity-object.ts';
import { actionRead } from '../feature-resolvers.ts';
import type { ActionFeatureArgs } from '../feature-resolvers.ts';
import type { HotEntry } from '../hot-entities.ts';
import type { RequestLoader } from '../request-loader.ts';
import { applyRowFilter } from '../row-filter.ts';
import { flat } from './flat-text.ts';
import { keepPart, keptPart } from './kept-parts.ts';
import type { ActionPlan, EntityPlan, QueryPlan, RowJoinPlan, RowParts } from './compile-plan.ts';

/** One root entity field of a request: its ids, and per action plan the rows of each id. */
interface RootState {
  readonly entity: EntityPlan;
  readonly ids: readonly string[];
  /** `rows[action][entity]`, filled once the reads are done. */
  readonly rows: ActionRow[][][];
  /** `joins[action][entity]`, filled once the rows are read. */
  readonly joins: JoinsRead[][];
}

/** What `loadJoins` settled for one list of rows. */
interface JoinsRead {
  /**
   * Per `row * joins + join`: the hot entry the row's joined entity is served from without a
   * lookup (kept by an earlier request, current when this request read its joins); undefined
   * where the loader reads it.
   */
  readonly kept: readonly (HotEntry | undefined)[];
  /** The list's kept text, when its rows and every joined entry are the same and current. */
  readonly list: ListText | undefined;
}

/**
 * Runs a compiled query: the same reads the resolvers would make, through the request's loader
 * (so the same batching: one read per entity type and pass, the hot entity cache, the cache
 * levels), then the answer's JSON text, `{"data":{...}}`, from parts kept per row and per shared
 * entity object. Rejects (with a LarderError or `FastPathMiss`) where GraphQL would answer with
 * an error; the caller then runs the full executor.
 */
export async function runPlan(
  plan: QueryPlan,
  variables: Readonly<Record<string, unknown>>,
  loader: RequestLoader,
): Promise<string> {
  const states: (RootState | undefined)[] = [];
  const reads: Promise<ActionRow[]>[] = [];
  const loads: Promise<void>[] = [];
  for (const root of plan.roots) {
    if (root.kind === 'text') {
      states.push(undefined);
      continue;
    }
    const entity = root.entity.entity;
    const args = root.args(variables);
    const ids =
      root.kind === 'single'
        ? [canonicalEntityId(entity, args['id'])]
        : (args['ids'] as readonly unknown[]).map((id) => canonicalEntityId(entity, id));
    const state: RootState = { entity: root.entity, ids, rows: [], joins: [] };
    states.push(state);
    if (root.entity.statics.length > 0) loads.push(loader.loadEntities(entity, ids, root.entity.statics));
    for (const action of root.entity.actions) {
      const read = actionRead(
        action.feature,
        action.defaultCount,
        action.args(variables)['input'] as ActionFeatureArgs | null | undefined,
      );
      const slot: ActionRow[][] = [];
      state.rows.push(slot);
      for (let i = 0; i < ids.length; i++) {
        const pk = partitionKey(entity, ids[i]!, action.feature.name);
        const predicate = read.predicate;
        const rows =
          predicate === undefined
            ? loader.range(pk, read.count, read.lastNSec)
            : loader
                .range(pk, action.feature.maxCount, read.lastNSec)
                .then((all) => applyRowFilter(all, predicate, read.count));
        reads.push(
          rows.then((r) => {
            slot[i] = r;
            loader.rowsServed += r.length;
            loader.featuresServed += r.length;
            return r;
          }),
        );
      }
    }
  }
  if (reads.length > 0) await Promise.all(reads);
  // Joined entities of every row of the request, asked in one pass: one read per entity type.
  for (const state of states) {
    if (state === undefined) continue;
    state.entity.actions.forEach((action, a) => {
      state.joins.push(state.rows[a]!.map((rows) => loadJoins(action, rows, loader, loads)));
    });
  }
  if (loads.length > 0) await Promise.all(loads);

  let out = '{"data":';
  plan.roots.forEach((root, r) => {
    if (root.kind === 'text') {
      out += root.prefix + root.text;
      return;
    }
    const state = states[r]!;
    const entity = state.entity.entity;
    if (root.kind === 'single') {
      out += root.prefix + entityText(state, 0, loader.entityObject(entity, state.ids[0]!), loader);
      return;
    }
    out += `${root.prefix}[`;
    for (let i = 0; i < state.ids.length; i++) {
      if (i > 0) out += ',';
      out += entityText(state, i, loader.entityObject(entity, state.ids[i]!), loader);
    }
    out += ']';
  });
  return `${out}}}`;
}

function rowPartsOf(action: ActionPlan, row: ActionRow): RowParts {
  let parts = keptPart<RowParts>(row, action);
  if (parts === undefined) {
    parts = action.rowParts(row);
    keepPart(row, action, parts);
  }
  return parts;
}

/**
 * A whole list's text (`[...]`), kept on its first row: `rows` it was written from and, per
 * `row * joins + join`, the hot entry each joined entity came from (null: the row has no id).
 * Served again while the list has the same rows and those entries are all still current.
 * Only lists whose every joined entity came from a hot entry are kept.
 */
interface ListText {
  readonly rows: readonly ActionRow[];
  readonly entries: readonly (HotEntry | null)[];
  readonly text: string;
}

function keptList(action: ActionPlan, rows: readonly ActionRow[]): ListText | undefined {
  if (rows.length === 0) return undefined;
  const list = keptPart<ListText>(rows[0]!, action.listKey);
  if (list === undefined || list.rows.length !== rows.length) return undefined;
  for (let r = 0; r < rows.length; r++) if (list.rows[r] !== rows[r]) return undefined;
  return list;
}

/**
 * Asks the loader for the joined entities of `rows`, except those whose hot entry, kept on the
 * row's parts (or with the list's kept text) by an earlier request, is still current: no lookup
 * for those. A list without joins, or whose every joined entry is current, is served as kept.
 */
function loadJoins(
  action: ActionPlan,
  rows: readonly ActionRow[],
  loader: RequestLoader,
  loads: Promise<void>[],
): JoinsRead {
  const joins = action.joins.length;
  const used: (HotEntry | undefined)[] = new Array<HotEntry | undefined>(rows.length * joins);
  const list = keptList(action, rows);
  if (list !== undefined) {
    const entries = list.entries;
    let hits = 0;
    let k = 0;
    for (; k < entries.length; k++) {
      const entry = entries[k]!;
      if (entry === null) continue;
      if (!loader.isHotEntryCurrent(entry)) break;
      used[k] = entry;
      hits++;
    }
    if (k === entries.length) {
      loader.countHotHits(hits);
      return { kept: used, list };
    }
    used.fill(undefined);
  }
  let hits = 0;
  for (let j = 0; j < joins; j++) {
    const ids: string[] = [];
    for (let r = 0; r < rows.length; r++) {
      const parts = rowPartsOf(action, rows[r]!);
      const id = parts.ids[j];
      if (id === undefined) continue;
      const entry = parts.entries[j];
      if (entry !== undefined && loader.isHotEntryCurrent(entry)) {
        used[r * joins + j] = entry;
        hits++;
      } else ids.push(id);
    }
    const join = action.joins[j]!;
    if (ids.length > 0) loads.push(loader.loadEntities(join.plan.target, ids, join.entity.statics));
  }
  loader.countHotHits(hits);
  return { kept: used, list: undefined };
}

/** A root entity: its fields, with its action features' rows from `state.rows[...][index]`. */
function entityText(state: RootState, index: number, object: EntityObject, loader: RequestLoader): string {
  if (state.entity.actions.length === 0) return keptEntityText(state.entity, object);
  let out = '';
  for (const field of state.entity.fields) {
    if (field.kind === 'text') out += field.prefix + field.text;
    else if (field.kind === 'value') out += field.prefix + field.write(object[field.name]);
    else {
      const action = state.entity.actions[field.index]!;
      out +=
        field.prefix +
        rowsText(action, state.rows[field.index]![index]!, state.joins[field.index]![index]!, loader);
    }
  }
  return `${out}}`;
}

function rowsText(
  action: ActionPlan,
  rows: readonly ActionRow[],
  { kept, list }: JoinsRead,
  loader: RequestLoader,
): string {
  if (list !== undefined) return list.text;
  const joins = action.joins;
  // What the list's text is written from, to keep it; null once a joined entity has no hot entry.
  let entries: (HotEntry | null)[] | null = [];
  let out = '[';
  for (let r = 0; r < rows.length; r++) {
    const parts = rowPartsOf(action, rows[r]!);
    if (r > 0) out += ',';
    if (joins.length === 0) {
      out += parts.texts[0]!;
      continue;
    }
    // The row's whole text is kept while its joined entities are the same objects (the hot
    // cache hands out the same object until it expires), so a repeated row is one piece.
    let same = parts.text !== undefined;
    const joined = parts.joined;
    for (let j = 0; j < joins.length; j++) {
      const id = parts.ids[j];
      let entry = kept[r * joins.length + j];
      let object: EntityObject | null;
      if (entry !== undefined) object = entry.found ? entry.object : null;
      else if (id === undefined) object = null;
      else {
        const target = joins[j]!.plan.target;
        object = loader.joinedEntity(target, id);
        entry = loader.hotEntryOf(target, id);
      }
      parts.entries[j] = entry;
      if (entries !== null) {
        if (id === undefined) entries.push(null);
        else if (entry !== undefined && (entry.found ? entry.object : null) === object) entries.push(entry);
        else entries = null;
      }
      if (joined[j] !== object) {
        joined[j] = object;
        same = false;
      }
    }
    if (!same) {
      let text = parts.texts[0]!;
      for (let j = 0; j < joins.length; j++)
        text += joinedText(joins[j]!, joined[j] ?? null) + parts.texts[j + 1]!;
      parts.text = flat(text);
    }
    out += parts.text!;
  }
  const text = flat(`${out}]`);
  if (rows.length > 0 && entries !== null) keepPart(rows[0]!, action.listKey, { rows, entries, text });
  return text;
}

/** A joined entity's text: null for a missing entity. */
function joinedText(join: RowJoinPlan, object: EntityObject | null): string {
  return object === null ? 'null' : keptEntityText(join.entity, object);
}

/**
 * The text of an entity without action features, kept per entity object (the hot cache shares
 * objects between requests until they expire).
 */
function keptEntityText(entity: EntityPlan, object: EntityObject): string {
  let text = keptPart<string>(object, entity);
  if (text === undefined) {
    text = '';
    for (const field of entity.fields) {
      if (field.kind === 'text') text += field.prefix + field.text;
      else if (field.kind === 'value') text += field.prefix + field.write(object[field.name]);
    }
    text = flat(`${text}}`);
    keepPart(object, entity, text, true);
  }
  return text;
}
