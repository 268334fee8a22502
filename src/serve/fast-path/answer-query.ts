import { partitionKey } from '../../keys/keys.ts';
import type { ActionRow } from '../../store/online-store.ts';
import { actionRead, type ActionFeatureArgs } from '../action-read.ts';
import { canonicalEntityId } from '../entity-id.ts';
import type { RequestLoader } from '../request-loader.ts';
import type { CompiledEntity, CompiledQuery } from './compile-query.ts';
import { AnswerWriter } from './answer-writer.ts';
import { entityText, listPiece, settleJoins, type SettledJoins } from './kept-texts.ts';

/** One root entity field of a request: its ids, and per compiled action the rows of each id. */
interface RootState {
  readonly entity: CompiledEntity;
  readonly ids: readonly string[];
  /** `rows[action][entity]`, filled once the reads are done. */
  readonly rows: ActionRow[][][];
  /** `joins[action][entity]`, filled once the rows are read. */
  readonly joins: SettledJoins[][];
}

/**
 * Runs a compiled query: the same reads the resolvers would make, through the request's loader
 * (so the same batching: one read per entity type and pass, the hot entity cache, the cache
 * levels), then the answer's JSON text, `{"data":{...}}`, from parts kept per row and per shared
 * entity object, as UTF-8 bytes: kept lists are spliced in as the bytes they were encoded to once
 * (`answer-writer.ts`). Rejects (with a LarderError or `FastPathMiss`) where GraphQL would answer
 * with an error; the caller then runs the full executor.
 */
export async function answerQuery(
  query: CompiledQuery,
  variables: Readonly<Record<string, unknown>>,
  loader: RequestLoader,
): Promise<Buffer> {
  const states: (RootState | undefined)[] = [];
  const reads: Promise<ActionRow[]>[] = [];
  const loads: Promise<void>[] = [];
  for (const root of query.roots) {
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
        reads.push(
          loader.actionRows(pk, read, action.feature.maxCount, action.feature.ttlMs).then((rows) => {
            slot[i] = rows;
            return rows;
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
      state.joins.push(state.rows[a]!.map((rows) => settleJoins(action, rows, loader, loads)));
    });
  }
  if (loads.length > 0) await Promise.all(loads);

  const out = new AnswerWriter('{"data":');
  query.roots.forEach((root, r) => {
    if (root.kind === 'text') {
      out.text(root.prefix + root.text);
      return;
    }
    const state = states[r]!;
    if (root.kind === 'single') {
      out.text(root.prefix);
      writeRootEntity(out, state, 0, loader);
      return;
    }
    out.text(`${root.prefix}[`);
    for (let i = 0; i < state.ids.length; i++) {
      if (i > 0) out.text(',');
      writeRootEntity(out, state, i, loader);
    }
    out.text(']');
  });
  out.text('}}');
  return out.bytes();
}

/** Root entity `index` of a root field: its fields, with its action features' rows. */
function writeRootEntity(out: AnswerWriter, state: RootState, index: number, loader: RequestLoader): void {
  const compiled = state.entity;
  const id = state.ids[index]!;
  if (compiled.actions.length === 0) {
    // The hot entry's object, whose text the memo may keep; else the request's own object.
    const entry = loader.hotEntryOf(compiled.entity, id);
    out.text(
      entry === undefined
        ? entityText(compiled, loader.entityObject(compiled.entity, id), false)
        : entityText(compiled, entry.object, true),
    );
    return;
  }
  const object = loader.entityObject(compiled.entity, id);
  for (const field of compiled.fields) {
    if (field.kind === 'text') out.text(field.prefix + field.text);
    else if (field.kind === 'value') out.text(field.prefix + field.write(object[field.name]));
    else {
      const action = compiled.actions[field.index]!;
      const rows = state.rows[field.index]![index]!;
      out.text(field.prefix);
      out.piece(listPiece(action, rows, state.joins[field.index]![index]!, loader));
    }
  }
  out.text('}');
}
