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
 * place (a changed row is a new object; the hot row cache hands out the same rows until they
 * change), so the row object is its own version. A hot cache entry (`HotEntry`) is one version of
 * an entity: a changed entity gets a new entry, and `isHotEntryCurrent` tells, without a lookup,
 * whether an entry is still the one served. So:
 *
 * - a list's text (`[...]`) is kept, as UTF-8 bytes, with its rows and the hot entries of all
 *   their joined entities; rows themselves keep nothing (their parts are written again when a list's text no
 *   longer holds, which the refresh-in-place of the hot caches makes rare);
 * - an entity's text (without action features) is kept on an entity object of a hot entry (the
 *   cache never modifies those objects).
 *
 * Where a joined entity did not come from a hot entry (the hot cache is off), nothing is kept
 * with it: its text is written for each request.
 *
 * Texts are kept in a non-enumerable symbol property of the first row or the entity object, so
 * GraphQL, JSON.stringify and object spreads never see or copy it, under the compiled action or
 * entity that wrote them (a few per object at most). Not a WeakMap: hot entity objects are
 * replaced when they change, and a WeakMap holding hundreds of thousands of dead keys until the
 * next full GC grows, rehashes and slows ephemeron marking (100–300 ms event-loop stalls under
 * load, measured).
 */

/**
 * A whole list's text: the `rows` it was written from and, per `row * joins + join`, the hot
 * entry each joined entity came from (null: the row has no id for it).
 */
interface KeptList {
  readonly rows: readonly ActionRow[];
  readonly entries: readonly (HotEntry | null)[];
  /** The list's UTF-8 bytes, encoded once: answers splice them in (`answer-writer.ts`). */
  readonly bytes: Buffer;
}

/** What `settleJoins` found for one list of rows; `listPiece` writes the list from it. */
export interface SettledJoins {
  /** The list's kept text, when its rows and every joined entry are the same and current. */
  readonly list: KeptList | undefined;
  /** Otherwise: each row's own parts, written once for this request. */
  readonly parts: readonly RowParts[] | undefined;
}

const NO_PARTS: SettledJoins = { list: undefined, parts: undefined };

/**
 * Asks the loader for the joined entities of `rows`, unless the list's text, kept by an earlier
 * request, still holds: the same rows, and every joined entity's hot entry still current (no
 * lookup at all then). Otherwise each row's parts are written and its joined ids asked for
 * (the hot entity cache answers those it holds).
 */
export function settleJoins(
  action: CompiledAction,
  rows: readonly ActionRow[],
  loader: RequestLoader,
  loads: Promise<void>[],
): SettledJoins {
  const list = keptList(action, rows);
  if (list !== undefined) {
    const entries = list.entries;
    let hits = 0;
    let k = 0;
    for (; k < entries.length; k++) {
      const entry = entries[k]!;
      if (entry === null) continue;
      if (!loader.isHotEntryCurrent(entry)) break;
      hits++;
    }
    if (k === entries.length) {
      loader.countHotHits(hits);
      return { list, parts: undefined };
    }
  }
  if (rows.length === 0) return NO_PARTS;
  const parts = rows.map(action.rowParts);
  const joins = action.joins;
  for (let j = 0; j < joins.length; j++) {
    const ids: string[] = [];
    for (const p of parts) {
      const id = p.ids[j];
      if (id !== undefined) ids.push(id);
    }
    const join = joins[j]!;
    if (ids.length > 0) loads.push(loader.loadEntities(join.join.target, ids, join.entity.statics));
  }
  return { list: undefined, parts };
}

/**
 * A list of rows (`[...]`), once `settleJoins` has been awaited: its kept bytes, or its text
 * (then kept as bytes when every joined entity came from a hot entry).
 */
export function listPiece(
  action: CompiledAction,
  rows: readonly ActionRow[],
  { list, parts }: SettledJoins,
  loader: RequestLoader,
): string | Buffer {
  if (list !== undefined) return list.bytes;
  if (parts === undefined) return '[]';
  const joins = action.joins;
  // What the list's text is written from, to keep it; null once a joined entity has no hot entry.
  let entries: (HotEntry | null)[] | null = [];
  let out = '[';
  for (let r = 0; r < parts.length; r++) {
    const { texts, ids } = parts[r]!;
    if (r > 0) out += ',';
    out += texts[0]!;
    for (let j = 0; j < joins.length; j++) {
      const id = ids[j];
      const target = joins[j]!.join.target;
      const entry = id === undefined ? undefined : loader.hotEntryOf(target, id);
      if (entries !== null) {
        if (id === undefined) entries.push(null);
        else if (entry !== undefined) entries.push(entry);
        else entries = null;
      }
      out += joinedText(joins[j]!, id, entry, loader) + texts[j + 1]!;
    }
  }
  const text = `${out}]`;
  if (entries === null) return text;
  const bytes = Buffer.from(text, 'utf8');
  keep(rows[0]!, action, { rows, entries, bytes } satisfies KeptList);
  return bytes;
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

/** A row's joined entity: its text from the hot entry it was served from, else as loaded. */
function joinedText(
  join: CompiledRowJoin,
  id: string | undefined,
  entry: HotEntry | undefined,
  loader: RequestLoader,
): string {
  if (entry !== undefined) return entry.found ? entityText(join.entity, entry.object, true) : 'null';
  const object = id === undefined ? null : loader.joinedEntity(join.join.target, id);
  return object === null ? 'null' : entityText(join.entity, object, false);
}

function keptList(action: CompiledAction, rows: readonly ActionRow[]): KeptList | undefined {
  if (rows.length === 0) return undefined;
  const list = kept<KeptList>(rows[0]!, action);
  if (list === undefined || list.rows.length !== rows.length) return undefined;
  if (list.rows === rows) return list;
  for (let r = 0; r < rows.length; r++) if (list.rows[r] !== rows[r]) return undefined;
  return list;
}

const SLOT = Symbol('larder.keptTexts');
const MAX_KEYS_PER_OBJECT = 4;

/**
 * What one object keeps, as `[key0, value0, key1, value1, ...]` (one value per key: a compiled
 * action or entity): one small array, not an object of two arrays, as there are hundreds of
 * thousands of them.
 */
type Slot = unknown[];

type Owner = { [SLOT]?: Slot };

function kept<T>(owner: object, key: object): T | undefined {
  const slot = (owner as Owner)[SLOT];
  if (slot === undefined) return undefined;
  for (let i = 0; i < slot.length; i += 2) if (slot[i] === key) return slot[i + 1] as T;
  return undefined;
}

/** Keeps `value` under `key` on `owner`, replacing what was kept under it. Frozen objects keep nothing. */
function keep(owner: object, key: object, value: unknown): void {
  const slot = (owner as Owner)[SLOT];
  if (slot === undefined) {
    if (!Object.isExtensible(owner)) return;
    // Made with its two elements: a push onto `[]` reserves 17 (~150 bytes, on every hot entity).
    Object.defineProperty(owner, SLOT, { value: [key, value], enumerable: false });
    return;
  }
  for (let i = 0; i < slot.length; i += 2) {
    if (slot[i] === key) {
      slot[i + 1] = value;
      return;
    }
  }
  if (slot.length >= MAX_KEYS_PER_OBJECT * 2) slot.splice(0, 2);
  slot.push(key, value);
}
