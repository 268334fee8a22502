import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LmdbStore } from '../../../src/store/lmdb/lmdb-store.ts';
import type { ActionRow, StaticValue } from '../../../src/store/online-store.ts';

/** Writes `files` (relative path → text) under `dir`, creating folders. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    const full = path.join(dir, name);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
}

export function jsonl(rows: readonly unknown[]): string {
  return rows.map((row) => (typeof row === 'string' ? row : JSON.stringify(row))).join('\n') + '\n';
}

/** The registry used by most batch tests: a static and an action feature of `user`, plus ingestions. */
export function registryYaml(ingestions: string): string {
  return `entities:
  user: {prefix: "u:", idType: int}
features:
  user:
    region_id:
      featureType: static
      events:
        - streamName: client_event
          topic: profile
          fields: [{name: region_id, type: int}]
    recent_views:
      featureType: action
      maxCount: 10000
      events:
        - streamName: client_event
          topic: views
          fields:
            - {name: article_id, type: int}
            - {name: source, type: string, required: false}
ingestions:
${ingestions}`;
}

/** Reads what the store holds for the given users: region values and view rows (newest first). */
export async function readUsers(
  dataDir: string,
  userIds: readonly number[],
): Promise<{ regions: (StaticValue | undefined)[]; views: ActionRow[][] }> {
  const store = new LmdbStore(dataDir);
  await store.open();
  try {
    const regions = await store.getStatic(userIds.map((id) => `u:${id}#region_id`));
    const views = await store.getRanges(
      userIds.map((id) => ({ pk: `u:${id}#recent_views`, count: 10_000, lastNSec: undefined })),
    );
    return { regions, views };
  } finally {
    await store.close();
  }
}

/**
 * The `views` ingestion (JSONL files `data/views-<f>.jsonl` into `user.recent_views`) and its
 * files: event n is `{id: "e<n>", user_id: n % users, ts: t0 + n, article: n}`, numbered across
 * files in order. `extra` adds lines to the ingestion spec (indented like its keys).
 */
export function viewsIngestionFiles(
  spec: { files: number; rowsPerFile: number; users: number; t0: number },
  extra = '',
): Record<string, string> {
  const files: Record<string, string> = {
    'registry.yaml': registryYaml(`
  views:
    source: {format: jsonl, path: "data/views-*.jsonl"}
    feature: user.recent_views
    entityIdField: user_id
    timestampField: ts
    eventIdField: id
    fields: [{name: article, rename: article_id, type: int}]
${extra}`),
  };
  for (let f = 0; f < spec.files; f++) {
    const lines: string[] = [];
    for (let i = 0; i < spec.rowsPerFile; i++) {
      const n = f * spec.rowsPerFile + i;
      lines.push(JSON.stringify({ id: `e${n}`, user_id: n % spec.users, ts: spec.t0 + n, article: n }));
    }
    files[`data/views-${f}.jsonl`] = lines.join('\n') + '\n';
  }
  return files;
}
