import type { FeatureDef } from './types.ts';

/** Rows an action feature read returns when the query gives no count (see `defaultActionCount`). */
export const DEFAULT_ACTION_COUNT = 30;

/** The rows a read of `feature` returns when the query gives no count: never more than its maxCount. */
export function defaultActionCount(feature: Pick<FeatureDef, 'maxCount'>): number {
  return Math.min(DEFAULT_ACTION_COUNT, feature.maxCount);
}
