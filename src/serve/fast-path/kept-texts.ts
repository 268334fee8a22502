import type { ActionRow } from '../../store/online-store.ts';
import type { EntityObject } from '../entity-object.ts';
import type { HotEntry } from '../hot-entities.ts';
import type { RequestLoader } from '../request-loader.ts';
import type { CompiledAction, CompiledEntity, CompiledRowJoin, RowParts } from './compile-query.ts';
import { flat } from './flat-text.ts';

/**
 * The fast path's memo of answer text: JSON text written once and served again while what it was
 * written from is unchanged. This module is the only code that keeps text across requests and
 * the only code that decides whether kept text still holds.
 *
 * Kept text holds while the versions it was written from are current. A row never changes in
 * place (a changed row is a new object), so the row object is its own version. A hot cache entry
 * (`HotEntry`) is one version of an entity: storing the entity again makes a new entry, and
 * `isHotEntryCurrent` tells, without a lookup, whether an entry is still the one served. So:
 *
 * - a row's own parts (its fields' text, its joined ids) are kept for good;
 * - a row's whole text is kept with the hot entries of its joined entities;
 * - a list's text (`[...]`) is kept with its rows and the hot entries of all their joined entities;
 * - an entity's text (without action features) is kept on an entity object of a hot entry (the
 *   cache never modifies those objects).
 *
 * Where a joined entity did not come from a hot entry (the hot cache is off), nothing is kept
 * with it: its text is written for each request.
 *
 * Texts are kept in a non-enumerable symbol property of the row or entity object, so GraphQL,
 * JSON.stringify and object spreads never see or copy it, under the compiled action or entity
 * that wrote them (a few per object at most). Not a WeakMap: hot entity objects are replaced every TTL, and a
 * WeakMap holding hundreds of thousands of dead keys until the next full GC grows, rehashes and
 * slows ephemeron marking (100–300 ms event-loop stalls under load, measured).
 */

/** What is kept for one row under one compiled action. */
interface KeptRow {
  readonly parts: RowParts;
  /** The row's whole text, written with the joined entities of the hot entries in `entries`. */
  text: string | undefined;
  /** Per join: the hot entry the joined entity was last served from (undefined: not from one). */
  readonly entries: (HotEntry | undefined)[];
  /** The text of the list that starts with this row. */
  list: KeptList | undefined;
}

/**
 * A whole list's text: the `rows` it was written from and, per `row * joins + join`, the hot
 * entry each joined entity came from (null: the row has no id for it).
 */
interface KeptList {
  readonly rows: readonly ActionRow[];
  readonly entries: readonly (HotEntry | null)[];
  readonly text: string;
}

/** What `settleJoins` found for one list of rows; `listText` writes the list from it. */
export interface SettledJoins {
  /**
   * Per `row * joins + join`: the hot entry the row's joined entity is served from without a
   * lookup (kept from an earlier request, current when this request settled its joins);
   * undefined where the loader reads it.
   */
  readonly kept: readonly (HotEntry | undefined)[];
  /** The list's kept text, when its rows and every joined entry are the same and current. */
  readonly list: KeptList | undefined;
}

/**
 * Asks the loader for the joined entities of `rows`, except those whose hot entry, kept with the
 * row (or with the list's text) by an earlier request, is still current: no lookup for those. A
 * list without joins, or whose every joined entry is current, is served as kept.
 */
export function settleJoins(
  action: CompiledAction,
  rows: readonly ActionRow[],
  loader: RequestLoader,
  loads: Promise<void>[],
): SettledJoins {
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
      const row = keptRow(action, rows[r]!);
      const id = row.parts.ids[j];
      if (id === undefined) continue;
      const entry = row.entries[j];
      if (entry !== undefined && loader.isHotEntryCurrent(entry)) {
        used[r * joins + j] = entry;
        hits++;
      } else ids.push(id);
    }
    const join = action.joins[j]!;
    if (ids.length > 0) loads.push(loader.loadEntities(join.join.target, ids, join.entity.statics));
  }
  loader.countHotHits(hits);
  return { kept: used, list: undefined };
}

/** The text of a list of rows (`[...]`), once `settleJoins` has been awaited. */
export function listText(
  action: CompiledAction,
  rows: readonly ActionRow[],
  { kept, list }: SettledJoins,
  loader: RequestLoader,
): string {
  if (list !== undefined) return list.text;
  const joins = action.joins;
  // What the list's text is written from, to keep it; null once a joined entity has no hot entry.
  let entries: (HotEntry | null)[] | null = [];
  let out = '[';
  for (let r = 0; r < rows.length; r++) {
    const row = keptRow(action, rows[r]!);
    if (r > 0) out += ',';
    const { texts, ids } = row.parts;
    if (joins.length === 0) {
      out += texts[0]!;
      continue;
    }
    // The whole text holds while every joined entity comes from the hot entry it was written with.
    let holds = row.text !== undefined;
    for (let j = 0; j < joins.length; j++) {
      const id = ids[j];
      const entry =
        id === undefined
          ? undefined
          : (kept[r * joins.length + j] ?? loader.hotEntryOf(joins[j]!.join.target, id));
      if (id !== undefined && (entry === undefined || entry !== row.entries[j])) holds = false;
      row.entries[j] = entry;
      if (entries !== null) {
        if (id === undefined) entries.push(null);
        else if (entry !== undefined) entries.push(entry);
        else entries = null;
      }
    }
    if (!holds) {
      let text = texts[0]!;
      for (let j = 0; j < joins.length; j++) text += joinedText(joins[j]!, row, j, loader) + texts[j + 1]!;
      row.text = flat(text);
    }
    out += row.text!;
  }
  const text = flat(`${out}]`);
  if (rows.length > 0 && entries !== null) keptRow(action, rows[0]!).list = { rows, entries, text };
  return text;
}

/**
 * The text of an entity without action features. Kept on the object when it is a hot entry's
 * (`shared`): the hot cache shares it between requests until the entry expires.
 */
export function entityText(entity: CompiledEntity, object: EntityObject, shared: boolean): string {
  let text = kept<string>(object, entity);
  if (text === undefined) {
    text = '';
    for (const field of entity.fields) {
      if (field.kind === 'text') text += field.prefix + field.text;
      else if (field.kind === 'value') text += field.prefix + field.write(object[field.name]);
    }
    text = flat(`${text}}`);
    if (shared) keep(object, entity, text);
  }
  return text;
}

/** Join `j` of a row: its entity's text from the hot entry it was served from, else as loaded. */
function joinedText(join: CompiledRowJoin, row: KeptRow, j: number, loader: RequestLoader): string {
  const entry = row.entries[j];
  if (entry !== undefined) return entry.found ? entityText(join.entity, entry.object, true) : 'null';
  const id = row.parts.ids[j];
  const object = id === undefined ? null : loader.joinedEntity(join.join.target, id);
  return object === null ? 'null' : entityText(join.entity, object, false);
}

function keptRow(action: CompiledAction, row: ActionRow): KeptRow {
  let memo = kept<KeptRow>(row, action);
  if (memo === undefined) {
    const parts = action.rowParts(row);
    memo = { parts, text: undefined, entries: parts.ids.map(() => undefined), list: undefined };
    keep(row, action, memo);
  }
  return memo;
}

function keptList(action: CompiledAction, rows: readonly ActionRow[]): KeptList | undefined {
  if (rows.length === 0) return undefined;
  const list = kept<KeptRow>(rows[0]!, action)?.list;
  if (list === undefined || list.rows.length !== rows.length) return undefined;
  for (let r = 0; r < rows.length; r++) if (list.rows[r] !== rows[r]) return undefined;
  return list;
}

const SLOT = Symbol('larder.keptTexts');
const MAX_KEYS_PER_OBJECT = 4;

/** What one object keeps: one value per key (a compiled action or entity). */
interface Slot {
  readonly keys: object[];
  readonly values: unknown[];
}

type Owner = { [SLOT]?: Slot };

function kept<T>(owner: object, key: object): T | undefined {
  const slot = (owner as Owner)[SLOT];
  if (slot === undefined) return undefined;
  const keys = slot.keys;
  for (let i = 0; i < keys.length; i++) if (keys[i] === key) return slot.values[i] as T;
  return undefined;
}

/** Keeps `value` under `key` on `owner`, replacing what was kept under it. Frozen objects keep nothing. */
function keep(owner: object, key: object, value: unknown): void {
  let slot = (owner as Owner)[SLOT];
  if (slot === undefined) {
    if (!Object.isExtensible(owner)) return;
    slot = { keys: [], values: [] };
    Object.defineProperty(owner, SLOT, { value: slot, enumerable: false });
  }
  const existing = slot.keys.indexOf(key);
  if (existing >= 0) {
    slot.values[existing] = value;
    return;
  }
  if (slot.keys.length >= MAX_KEYS_PER_OBJECT) {
    slot.keys.shift();
    slot.values.shift();
  }
  slot.keys.push(key);
  slot.values.push(value);
}
