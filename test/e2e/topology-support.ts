/** What a server answers for one user of the stream-test registry: its rows' item ids, newest first, and `last_item`. */
export interface ServedUser {
  readonly items: number[];
  readonly last: number | null;
}

interface UsersReply {
  readonly data?: { users?: ({ recent_items: { item_id: number }[]; last_item: number | null } | null)[] };
  readonly errors?: unknown[];
}

/**
 * Every user `user0 … user<users-1>` of the stream-test registry (test/stream/fixtures/pipeline.ts)
 * as the server on `port` answers over GraphQL, through the `users(ids:)` root field, 100 ids per
 * request (under the server's rows-per-request bound at `count: 150`).
 */
export async function readServedUsers(port: number, users: number): Promise<Map<string, ServedUser>> {
  const out = new Map<string, ServedUser>();
  for (let start = 0; start < users; start += 100) {
    const ids = Array.from({ length: Math.min(100, users - start) }, (_, i) => `user${start + i}`);
    const query = `{ users(ids: ${JSON.stringify(ids)}) { recent_items(input: {count: 150}) { item_id } last_item } }`;
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as UsersReply;
    const rows = body.data?.users;
    if (!res.ok || body.errors !== undefined || rows === undefined)
      throw new Error(`GraphQL on :${port} answered ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
    ids.forEach((id, i) => {
      const user = rows[i];
      out.set(id, { items: user?.recent_items.map((r) => r.item_id) ?? [], last: user?.last_item ?? null });
    });
  }
  return out;
}

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (`/metrics`), comments left out. */
export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
