import { existsSync } from 'node:fs';
import path from 'node:path';
import { compileFilter } from './compile-filter.ts';
import { DEFAULT_BREAKER } from './compile-on-demand.ts';
import { defaultStream, isValidStreamName } from './compile-stream.ts';
import { substituteEnv } from './env-substitution.ts';
import type { SpecReader } from './node-reader.ts';
import type { SpecEntry, SpecMap, SpecNode } from './spec-node.ts';
import type {
  EnricherDef,
  EnricherDestination,
  EnricherHandlerDef,
  EnricherTrigger,
  FilterDef,
  SourcePos,
  StreamDef,
} from './types.ts';

/**
 * Compiles `enrichers.<name>` (see `EnricherDef` in types.ts and docs/enrichment.md), read like
 * every other block: each problem recorded at its file:line:column, with a did-you-mean for
 * misspelt keys.
 *
 * Beyond each entry's shape it checks what only the whole registry can tell:
 * - a destination stream declared under `streams:` takes its event ids from `eventId`, the field
 *   every result event carries (else a re-run invocation would write its result twice);
 * - no enricher's trigger is its own destination (an endless loop); a longer loop through other
 *   enrichers is a warning, since filters may break it.
 */

export const ENRICHER_KEYS = [
  'trigger',
  'input',
  'handler',
  'concurrency',
  'timeout',
  'retries',
  'onSuccess',
  'onFailure',
] as const;
const TRIGGER_KEYS = ['streamName', 'topic', 'subTopic', 'filter'] as const;
const DESTINATION_KEYS = ['streamName', 'topic'] as const;
const HANDLER_KINDS = ['module', 'http', 'command'] as const;
const HTTP_KEYS = ['url', 'timeout', 'breaker'] as const;
const BREAKER_KEYS = ['failures', 'reset'] as const;
const CONCURRENCY_KEYS = ['min', 'max'] as const;
const RETRY_KEYS = ['max', 'backoff', 'maxBackoff'] as const;

/** The field of every result event that holds its idempotency key. */
export const RESULT_EVENT_ID_FIELD = 'eventId';

export const ENRICHER_DEFAULTS = {
  concurrency: { min: 1, max: 8 },
  timeoutMs: 10_000,
  retries: { max: 3, backoffMs: 1_000, maxBackoffMs: 60_000 },
} as const;
const MAX_CONCURRENCY = 1_000;
const MAX_TIMEOUT_MS = 15 * 60_000;

interface CompileContext {
  readonly reader: SpecReader;
  /** Absolute registry directory: module paths and commands are relative to it. */
  readonly registryDir: string;
  /** Streams so far (declared, and implied by features); implied ones are added to it. */
  readonly streams: Map<string, StreamDef>;
  /** Environment for `${VAR}` in an http handler's url. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Compiles every `enrichers:` block, in declaration order; entries with errors are left out. */
export function compileEnrichers(
  blocks: readonly SpecEntry[],
  context: CompileContext,
): Map<string, EnricherDef> {
  const { reader } = context;
  const defs = new Map<string, EnricherDef>();
  const seen = new Set<string>();
  for (const block of blocks) {
    if (block.value.kind === 'scalar' && block.value.value === null) continue;
    const map = reader.map(block.value, 'enrichers');
    for (const entry of map?.entries ?? []) {
      // A name given twice across files is reported by mergeExtension.
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      const def = compileOne(entry, context);
      if (def !== undefined) defs.set(def.name, def);
    }
  }
  checkLoops([...defs.values()], reader);
  return defs;
}

function compileOne(entry: SpecEntry, context: CompileContext): EnricherDef | undefined {
  const { reader } = context;
  const name = entry.key;
  const what = `enrichers.${name}`;
  const before = reader.issues.count;
  reader.name(name, 'enricher name', entry.keyPos);
  const map = reader.map(entry.value, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, ENRICHER_KEYS, what);

  const trigger = present(keys.trigger) === undefined ? undefined : readTrigger(keys.trigger!, what, context);
  const input = readInput(keys.input, what, reader);
  const handlerNode = reader.required(keys.handler, `${what}.handler`, entry.keyPos);
  const timeoutMs = readTimeout(keys.timeout, `${what}.timeout`, reader) ?? ENRICHER_DEFAULTS.timeoutMs;
  const handler =
    handlerNode === undefined ? undefined : readHandler(handlerNode, `${what}.handler`, timeoutMs, context);
  const concurrency = readConcurrency(keys.concurrency, what, reader);
  const retries = readRetries(keys.retries, what, reader);
  const successNode = reader.required(keys.onSuccess, `${what}.onSuccess`, entry.keyPos);
  const onSuccess =
    successNode === undefined ? undefined : readDestination(successNode, `${what}.onSuccess`, context);
  const onFailure =
    present(keys.onFailure) === undefined
      ? undefined
      : readDestination(keys.onFailure!.value, `${what}.onFailure`, context);

  if (trigger !== undefined) {
    for (const [destination, key] of [
      [onSuccess, 'onSuccess'],
      [onFailure, 'onFailure'],
    ] as const) {
      if (
        destination !== undefined &&
        destination.streamName === trigger.def.streamName &&
        destination.topic === trigger.def.topic
      ) {
        reader.issues.add(
          'LARDER_ERR_SPEC_INVALID_VALUE',
          `${what}.${key} publishes to ${destination.streamName}/${destination.topic}, the topic that triggers it: every result would start another invocation`,
          trigger.pos,
          `Publish the ${key} events to another topic.`,
        );
      }
    }
  }
  if (reader.issues.count > before || handler === undefined || onSuccess === undefined) return undefined;
  return {
    name,
    trigger: trigger?.def,
    input,
    handler,
    concurrency,
    timeoutMs,
    retries,
    onSuccess,
    onFailure,
    pos: entry.keyPos,
  };
}

function readTrigger(
  entry: SpecEntry,
  what: string,
  context: CompileContext,
): { def: EnricherTrigger; pos: SourcePos } | undefined {
  const { reader } = context;
  const map = reader.map(entry.value, `${what}.trigger`);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, TRIGGER_KEYS, `${what}.trigger`);
  const streamName = readStreamName(keys.streamName, `${what}.trigger`, map, context);
  const topic = reader.string(
    reader.required(keys.topic, `${what}.trigger.topic`, map.pos),
    `${what}.trigger.topic`,
    {
      numbers: true,
    },
  );
  const subTopicNode = present(keys.subTopic);
  const subTopic =
    subTopicNode === undefined
      ? undefined
      : reader.string(subTopicNode, `${what}.trigger.subTopic`, { numbers: true });
  const filter: FilterDef[] = [];
  const filterNode = present(keys.filter);
  if (filterNode !== undefined) {
    reader.list(filterNode, `${what}.trigger.filter`)?.forEach((item, i) => {
      const compiled = compileFilter(item, `${what}.trigger.filter[${i}]`, reader);
      if (compiled !== undefined) filter.push(compiled);
    });
  }
  if (streamName === undefined || topic === undefined) return undefined;
  if (!context.streams.has(streamName)) context.streams.set(streamName, defaultStream(streamName, false));
  return { def: { streamName, topic, subTopic, filter }, pos: map.pos };
}

/** `input: {name: dotted.path, ...}`; absent: the whole event. */
function readInput(entry: SpecEntry | undefined, what: string, reader: SpecReader): EnricherDef['input'] {
  const node = present(entry);
  if (node === undefined) return [];
  const map = reader.map(node, `${what}.input`);
  const out: { name: string; path: string }[] = [];
  for (const field of map?.entries ?? []) {
    reader.name(field.key, `${what}.input field`, field.keyPos);
    const fieldPath = reader.path(field.value, `${what}.input.${field.key}`);
    if (fieldPath !== undefined) out.push({ name: field.key, path: fieldPath });
  }
  return out;
}

function readHandler(
  node: SpecNode,
  what: string,
  timeoutMs: number,
  context: CompileContext,
): EnricherHandlerDef | undefined {
  const { reader } = context;
  const map = reader.map(node, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, HANDLER_KINDS, what);
  const given = HANDLER_KINDS.filter((kind) => keys[kind] !== undefined);
  if (given.length !== 1) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what} must name exactly one of module, http or command${given.length > 1 ? `; found ${given.join(', ')}` : ''}`,
      map.pos,
      'Write `module: ./handlers/x.js`, `http: {url: ...}` or `command: [node, x.js]`.',
    );
    return undefined;
  }
  const kind = given[0]!;
  const entry = keys[kind]!;
  switch (kind) {
    case 'module': {
      const text = reader.string(reader.required(entry, `${what}.module`, map.pos), `${what}.module`);
      if (text === undefined) return undefined;
      const file = path.resolve(context.registryDir, text);
      if (!existsSync(file)) {
        reader.issues.add(
          'LARDER_ERR_SPEC_REFERENCE',
          `${what}.module ${text} does not exist (looked for ${file})`,
          entry.value.pos,
          'Module paths are relative to the registry directory.',
        );
        return undefined;
      }
      return { kind: 'module', path: file };
    }
    case 'command': {
      const argv = reader.stringList(entry, `${what}.command`);
      if (argv === undefined) return undefined;
      if (argv.length === 0) {
        reader.issues.add(
          'LARDER_ERR_SPEC_INVALID_VALUE',
          `${what}.command must not be empty`,
          entry.value.pos,
        );
        return undefined;
      }
      return { kind: 'command', argv, cwd: context.registryDir };
    }
    case 'http':
      return readHttp(entry, `${what}.http`, timeoutMs, context);
  }
}

function readHttp(
  entry: SpecEntry,
  what: string,
  timeoutMs: number,
  context: CompileContext,
): EnricherHandlerDef | undefined {
  const { reader } = context;
  const map = reader.map(entry.value, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, HTTP_KEYS, what);
  const urlNode = reader.required(keys.url, `${what}.url`, map.pos);
  const before = reader.issues.count;
  const raw = reader.string(urlNode, `${what}.url`);
  // `${VAR}` and `${VAR:-default}`, as in stream connections: the service's address per deployment.
  const url =
    raw === undefined || urlNode === undefined
      ? undefined
      : (substituteEnv(urlNode, context.env, reader.issues, `${what}.url`) as string);
  if (url !== undefined && urlNode !== undefined && reader.issues.count === before && !isHttpUrl(url)) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.url "${url}" is not an http(s) URL`,
      urlNode.pos,
    );
  }
  const ownTimeout = readTimeout(keys.timeout, `${what}.timeout`, reader);
  let breaker: { failures: number; resetMs: number } = { ...DEFAULT_BREAKER };
  const breakerNode = present(keys.breaker);
  if (breakerNode !== undefined) {
    const breakerMap = reader.map(breakerNode, `${what}.breaker`);
    const b = breakerMap === undefined ? {} : reader.keys(breakerMap, BREAKER_KEYS, `${what}.breaker`);
    breaker = {
      failures: reader.int(b.failures, `${what}.breaker.failures`, 1) ?? DEFAULT_BREAKER.failures,
      resetMs: reader.duration(b.reset, `${what}.breaker.reset`) ?? DEFAULT_BREAKER.resetMs,
    };
  }
  if (url === undefined || !isHttpUrl(url)) return undefined;
  return { kind: 'http', url, timeoutMs: ownTimeout ?? timeoutMs, breaker };
}

function readDestination(
  node: SpecNode,
  what: string,
  context: CompileContext,
): EnricherDestination | undefined {
  const { reader } = context;
  const map = reader.map(node, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, DESTINATION_KEYS, what);
  const streamName = readStreamName(keys.streamName, what, map, context);
  const topic = reader.string(reader.required(keys.topic, `${what}.topic`, map.pos), `${what}.topic`, {
    numbers: true,
  });
  if (streamName === undefined || topic === undefined) return undefined;
  const stream = context.streams.get(streamName);
  if (stream === undefined || !stream.declared) {
    // An undeclared stream is implied here with the event id field that result events carry.
    context.streams.set(streamName, {
      ...defaultStream(streamName, false),
      eventIdField: RESULT_EVENT_ID_FIELD,
    });
  } else if (stream.eventIdField !== RESULT_EVENT_ID_FIELD) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.streamName: stream "${streamName}" takes event ids from ${stream.eventIdField ?? 'a hash of the event'}, ` +
        `but result events carry theirs in "${RESULT_EVENT_ID_FIELD}"; a re-run invocation would write its result twice`,
      keys.streamName?.value.pos ?? map.pos,
      `Set \`eventIdField: ${RESULT_EVENT_ID_FIELD}\` on streams.${streamName}, or publish to another stream.`,
    );
  }
  return { streamName, topic };
}

function readStreamName(
  entry: SpecEntry | undefined,
  what: string,
  map: SpecMap,
  context: CompileContext,
): string | undefined {
  const { reader } = context;
  const node = reader.required(entry, `${what}.streamName`, map.pos);
  const name = reader.string(node, `${what}.streamName`);
  if (name === undefined || node === undefined) return undefined;
  if (!isValidStreamName(name)) {
    reader.issues.add(
      'LARDER_ERR_SPEC_NAME',
      `${what}.streamName "${name}" is not a valid stream name: use letters, digits, "_", "." and "-"`,
      node.pos,
    );
    return undefined;
  }
  return name;
}

function readConcurrency(
  entry: SpecEntry | undefined,
  what: string,
  reader: SpecReader,
): EnricherDef['concurrency'] {
  const node = present(entry);
  const defaults = ENRICHER_DEFAULTS.concurrency;
  if (node === undefined) return { ...defaults };
  const map = reader.map(node, `${what}.concurrency`);
  if (map === undefined) return { ...defaults };
  const keys = reader.keys(map, CONCURRENCY_KEYS, `${what}.concurrency`);
  const min = reader.int(keys.min, `${what}.concurrency.min`, 1) ?? defaults.min;
  const max = reader.int(keys.max, `${what}.concurrency.max`, 1) ?? Math.max(min, defaults.max);
  if (max > MAX_CONCURRENCY) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.concurrency.max must be at most ${MAX_CONCURRENCY}, found ${max}`,
      keys.max?.value.pos ?? map.pos,
    );
  }
  if (min > max) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.concurrency.min (${min}) is larger than max (${max})`,
      keys.min?.value.pos ?? map.pos,
      'Give min at most max.',
    );
  }
  return { min, max };
}

function readRetries(entry: SpecEntry | undefined, what: string, reader: SpecReader): EnricherDef['retries'] {
  const node = present(entry);
  const defaults = ENRICHER_DEFAULTS.retries;
  if (node === undefined) return { ...defaults };
  const map = reader.map(node, `${what}.retries`);
  if (map === undefined) return { ...defaults };
  const keys = reader.keys(map, RETRY_KEYS, `${what}.retries`);
  const max = reader.int(keys.max, `${what}.retries.max`, 0) ?? defaults.max;
  const backoffMs =
    reader.duration(keys.backoff, `${what}.retries.backoff`, { allowZero: true }) ?? defaults.backoffMs;
  const maxBackoffMs =
    reader.duration(keys.maxBackoff, `${what}.retries.maxBackoff`, { allowZero: true }) ??
    Math.max(backoffMs, defaults.maxBackoffMs);
  if (maxBackoffMs < backoffMs) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.retries.maxBackoff is shorter than backoff`,
      keys.maxBackoff?.value.pos ?? map.pos,
      'Give maxBackoff at least backoff.',
    );
  }
  return { max, backoffMs, maxBackoffMs };
}

function readTimeout(entry: SpecEntry | undefined, what: string, reader: SpecReader): number | undefined {
  const ms = reader.duration(entry, what);
  if (ms === undefined || ms <= MAX_TIMEOUT_MS) return ms;
  reader.issues.add(
    'LARDER_ERR_SPEC_INVALID_VALUE',
    `${what} must be at most ${MAX_TIMEOUT_MS / 60_000}m, found ${ms} ms`,
    entry!.value.pos,
  );
  return undefined;
}

/**
 * Warns about loops through several enrichers: A's results trigger B, whose results trigger A.
 * Filters and sub-topics may keep such a loop from ever closing, so it is not an error.
 */
function checkLoops(defs: readonly EnricherDef[], reader: SpecReader): void {
  const topicOf = (d: EnricherDestination | EnricherTrigger): string => `${d.streamName}/${d.topic}`;
  const next = new Map<string, EnricherDef[]>();
  for (const def of defs) {
    for (const destination of [def.onSuccess, def.onFailure]) {
      if (destination === undefined) continue;
      const triggered = defs.filter(
        (d) => d.trigger !== undefined && topicOf(d.trigger) === topicOf(destination),
      );
      next.set(def.name, [...(next.get(def.name) ?? []), ...triggered]);
    }
  }
  const reported = new Set<string>();
  for (const start of defs) {
    // Depth-first from `start`, looking for a way back to it through at least two enrichers.
    const stack: { def: EnricherDef; trail: string[] }[] = [{ def: start, trail: [start.name] }];
    const visited = new Set<string>();
    while (stack.length > 0) {
      const { def, trail } = stack.pop()!;
      for (const following of next.get(def.name) ?? []) {
        if (following.name === start.name && trail.length > 1) {
          const key = [...trail].sort().join(',');
          if (reported.has(key)) continue;
          reported.add(key);
          reader.issues.warn(
            'LARDER_ERR_SPEC_INVALID_VALUE',
            `enrichers ${[...trail, start.name].join(' -> ')} form a loop: each one's results trigger the next`,
            start.pos,
            'Make sure a trigger filter or sub-topic ends the loop, or publish to other topics.',
          );
        } else if (!visited.has(following.name) && following.name !== start.name) {
          visited.add(following.name);
          stack.push({ def: following, trail: [...trail, following.name] });
        }
      }
    }
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const protocol = new URL(text).protocol;
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** The value node of an entry, or undefined when the key is absent or has no value. */
function present(entry: SpecEntry | undefined): SpecNode | undefined {
  if (entry === undefined || (entry.value.kind === 'scalar' && entry.value.value === null)) return undefined;
  return entry.value;
}
