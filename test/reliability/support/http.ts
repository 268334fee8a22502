/** Small HTTP helpers for tests that drive a real `larder serve` process. */

export interface Answer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** GET `path`; a network failure or timeout answers status 0. */
export async function get(port: number, path: string, timeoutMs = 5_000): Promise<Answer> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  } catch {
    return { status: 0, body: undefined };
  }
}

/** POSTs NDJSON events to `/v1/streams/<stream>/<topic>`; a network failure answers status 0. */
export async function push(
  port: number,
  stream: string,
  topic: string,
  events: readonly unknown[],
  timeoutMs = 15_000,
): Promise<Answer> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/streams/${stream}/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: events.map((e) => JSON.stringify(e)).join('\n'),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  } catch {
    return { status: 0, body: undefined };
  }
}

/** POSTs a GraphQL query; a network failure answers status 0. */
export async function graphql(port: number, query: string, timeoutMs = 10_000): Promise<Answer> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  } catch {
    return { status: 0, body: undefined };
  }
}

/**
 * The event ids of `feature` per user id, read through GraphQL `users(ids:)` in chunks: what a
 * user of the server sees. Every user must exist in the answer.
 */
export async function rowIdsByUser(
  port: number,
  userIds: readonly number[],
  feature: string,
  field: string,
  count: number,
): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (let i = 0; i < userIds.length; i += 100) {
    const chunk = userIds.slice(i, i + 100);
    const answer = await graphql(
      port,
      `{ users(ids: [${chunk.join(',')}]) { id ${feature}(input: {count: ${count}}) { ${field} } } }`,
    );
    if (answer.status !== 200 || answer.body?.errors !== undefined)
      throw new Error(`read failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    chunk.forEach((id, k) => {
      const rows = (answer.body.data.users[k]?.[feature] ?? []) as Record<string, unknown>[];
      out.set(
        id,
        rows.map((row) => String(row[field])),
      );
    });
  }
  return out;
}
