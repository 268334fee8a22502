import type { EntityDef } from '../registry/types.ts';

/**
 * The partition key of a feature group for one entity: `<prefix><entity_id>#<group>`, for example
 * `u:1111#recent_view_articles` (prefix `u:`). The prefix carries its own separator, as in the brief.
 */
export function partitionKey(entity: Pick<EntityDef, 'prefix'>, entityId: string, group: string): string {
  return `${entity.prefix}${entityId}#${group}`;
}
