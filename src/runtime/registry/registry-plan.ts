import { parse, validate, type GraphQLSchema } from 'graphql';
import { entityTypeName } from '../../registry/graphql-names.ts';
import {
  diffRegistries,
  DIFF_SECTIONS,
  storedDataBreaks,
  type BreakingChange,
  type DeclarationChange,
} from '../../registry/registry-diff.ts';
import type { Registry } from '../../registry/types.ts';
import { buildServingSchema } from '../../serve/graphql-schema.ts';
import { PERSISTED_QUERY_INDEX, PERSISTED_QUERY_PREFIX } from '../../serve/persisted-queries.ts';
import type { OnlineStore } from '../../store/online-store.ts';
import { diffSchemas, type SchemaChange } from './schema-diff.ts';

export interface PersistedQueryText {
  /** Its SHA-256 hash, the id clients send. */
  readonly id: string;
  readonly query: string;
}

/** What applying `to` over `from` would change, and which of it is breaking. */
export interface RegistryPlan {
  /** The version in force; null when nothing was applied yet. */
  readonly from: string | null;
  readonly to: string;
  readonly declarations: readonly DeclarationChange[];
  readonly schema: readonly SchemaChange[];
  /** `allowed`: listed in the new version's `allowBreaking`, or `--allow-breaking` given. */
  readonly breaking: readonly (BreakingChange & { readonly allowed: boolean })[];
}

export interface PlanOptions {
  /** The persisted queries of the store; a removed group they use is breaking. */
  readonly persistedQueries?: readonly PersistedQueryText[];
  /** `--allow-breaking`: every breaking change counts as allowed. */
  readonly allowBreaking?: boolean;
}

/** Plans `next` over `old` (undefined: nothing applied yet, so everything is added and nothing breaks). */
export function planRegistry(
  old: Registry | undefined,
  next: Registry,
  options: PlanOptions = {},
): RegistryPlan {
  const before = old === undefined ? undefined : buildServingSchema(old).schema;
  const after = buildServingSchema(next).schema;
  const breaks =
    old === undefined || old.version === next.version
      ? []
      : [
          ...storedDataBreaks(old, next),
          ...queryBreaks(old, next, before, after, options.persistedQueries ?? []),
        ];
  const allowList = new Set(next.allowBreaking ?? []);
  return {
    from: old?.version ?? null,
    to: next.version,
    declarations: old?.version === next.version ? [] : diffRegistries(old, next),
    schema: old?.version === next.version ? [] : diffSchemas(before, after),
    breaking: dedupe(breaks).map((b) => ({
      ...b,
      allowed: options.allowBreaking === true || allowList.has(b.id),
    })),
  };
}

function dedupe(breaks: BreakingChange[]): BreakingChange[] {
  const seen = new Set<string>();
  return breaks.filter((b) => {
    const key = `${b.id}\0${b.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Persisted queries valid under `old` that `next` no longer validates, named after the group they lost when there is one. */
function queryBreaks(
  old: Registry,
  next: Registry,
  before: GraphQLSchema | undefined,
  after: GraphQLSchema,
  queries: readonly PersistedQueryText[],
): BreakingChange[] {
  if (before === undefined || queries.length === 0) return [];
  const nextFeatures = new Set(next.features.map((f) => `${f.entity}.${f.name}`));
  const removed = old.features.filter((f) => !nextFeatures.has(`${f.entity}.${f.name}`));
  const usedBy = new Map<string, string[]>();
  const out: BreakingChange[] = [];
  for (const { id, query } of queries) {
    let document;
    try {
      document = parse(query);
    } catch {
      continue;
    }
    if (validate(before, document).length > 0) continue;
    const errors = validate(after, document).map((e) => e.message);
    if (errors.length === 0) continue;
    let named = false;
    for (const feature of removed) {
      const needle = `field "${feature.name}" on type "${entityTypeName(feature.entity)}"`;
      if (!errors.some((e) => e.includes(needle))) continue;
      named = true;
      const key = `${feature.entity}.${feature.name}`;
      usedBy.set(key, [...(usedBy.get(key) ?? []), id.slice(0, 12)]);
    }
    if (!named)
      out.push({
        id: `query:${id.slice(0, 12)}`,
        reason: `persisted query ${id.slice(0, 12)} no longer validates: ${errors[0]}`,
      });
  }
  for (const [key, ids] of usedBy)
    out.unshift({
      id: `group-removed:${key}`,
      reason: `feature ${key} removed; persisted ${ids.length === 1 ? 'query' : 'queries'} ${ids.join(', ')} still ${ids.length === 1 ? 'uses' : 'use'} it`,
    });
  return out;
}

/** 0: nothing changes; 2: changes; 3: breaking changes not allowed. */
export function planExitCode(plan: RegistryPlan): 0 | 2 | 3 {
  if (plan.breaking.some((b) => !b.allowed)) return 3;
  return plan.declarations.length === 0 && plan.schema.length === 0 && plan.from === plan.to ? 0 : 2;
}

const SECTION_TITLES: Record<(typeof DIFF_SECTIONS)[number], string> = {
  entities: 'Entities',
  streams: 'Streams',
  features: 'Features',
  ingestions: 'Ingestions',
  enrichers: 'Enrichers',
  onDemand: 'On-demand features',
};

const MARK = { added: '+', removed: '-', changed: '~' } as const;

/** The plan as `larder plan` prints it. */
export function formatPlan(plan: RegistryPlan): string {
  const lines: string[] = [];
  const short = (v: string | null): string => (v === null ? '(nothing applied)' : v.slice(0, 12));
  if (planExitCode(plan) === 0) return `No changes: the registry is at version ${short(plan.to)}.\n`;
  lines.push(`Registry plan: ${short(plan.from)} → ${short(plan.to)}`);
  for (const section of DIFF_SECTIONS) {
    const changes = plan.declarations.filter((d) => d.section === section);
    if (changes.length === 0) continue;
    lines.push('', `${SECTION_TITLES[section]}:`);
    for (const change of changes) {
      lines.push(`  ${MARK[change.change]} ${change.name}`);
      for (const key of change.keys) {
        if (key.before === undefined) lines.push(`      + ${key.key}: ${key.after}`);
        else if (key.after === undefined) lines.push(`      - ${key.key}: ${key.before}`);
        else lines.push(`      ~ ${key.key}: ${key.before} → ${key.after}`);
      }
    }
  }
  if (plan.schema.length > 0) {
    lines.push('', 'GraphQL schema:');
    for (const change of plan.schema) {
      if (change.change === 'added') lines.push(`  + ${change.path}: ${change.after}`);
      else if (change.change === 'removed') lines.push(`  - ${change.path}: ${change.before}`);
      else lines.push(`  ~ ${change.path}: ${change.before} → ${change.after}`);
    }
  }
  if (plan.breaking.length > 0) {
    lines.push('', 'Breaking changes:');
    for (const b of plan.breaking) lines.push(`  ! ${b.id}${b.allowed ? ' (allowed)' : ''}: ${b.reason}`);
  }
  const count = (change: DeclarationChange['change']): number =>
    plan.declarations.filter((d) => d.change === change).length;
  const refused = plan.breaking.filter((b) => !b.allowed).length;
  lines.push(
    '',
    `Plan: ${count('added')} to add, ${count('changed')} to change, ${count('removed')} to remove; ` +
      `${plan.breaking.length} breaking${plan.breaking.length > 0 ? ` (${refused} not allowed)` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}

/** The persisted queries kept in `store` (the index, then every text it names). */
export async function readPersistedQueries(
  store: Pick<OnlineStore, 'getStatic'>,
): Promise<PersistedQueryText[]> {
  const [index] = await store.getStatic([PERSISTED_QUERY_INDEX]);
  const value = index?.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const ids = Object.keys(value);
  const texts = await store.getStatic(ids.map((id) => PERSISTED_QUERY_PREFIX + id));
  return ids.flatMap((id, i) => {
    const text = texts[i]?.value;
    return typeof text === 'string' ? [{ id, query: text }] : [];
  });
}
