import { LarderError } from '../errors.ts';
import type { FeatureDef } from '../registry/types.ts';
import { compileRowFilter, type RowFilterInput, type RowPredicate } from './row-filter.ts';

/** `ActionFeatureInput` as GraphQL hands it to a resolver. */
export interface ActionFeatureArgs {
  readonly count?: number | null;
  readonly lastNSec?: number | null;
  readonly filter?: readonly RowFilterInput[] | null;
}

/**
 * What one action feature read asks for: `count` newest rows, within `lastNSec`, and with a
 * filter `predicate` (then up to maxCount rows are read, filtered, and the newest `count` kept).
 */
export interface ActionRead {
  readonly count: number;
  readonly lastNSec: number | undefined;
  readonly predicate: RowPredicate | undefined;
}

/**
 * The read a query's `input` asks for. Throws a LarderError for a count above maxCount, a
 * negative window or a bad filter.
 */
export function actionRead(
  feature: FeatureDef,
  defaultCount: number,
  input: ActionFeatureArgs | null | undefined,
): ActionRead {
  if (input == null) return { count: defaultCount, lastNSec: undefined, predicate: undefined };
  return {
    count: input.count != null ? checkCount(feature, input.count) : defaultCount,
    lastNSec: input.lastNSec != null ? checkLastNSec(input.lastNSec) : undefined,
    predicate: input.filter == null ? undefined : compileRowFilter(feature, input.filter),
  };
}

function checkCount(feature: FeatureDef, count: number): number {
  if (count > feature.maxCount) {
    throw new LarderError(
      'LARDER_ERR_COUNT_TOO_LARGE',
      `count ${count} exceeds maxCount ${feature.maxCount} of ${feature.entity}.${feature.name}`,
      { details: { feature: `${feature.entity}.${feature.name}`, maxCount: feature.maxCount } },
    );
  }
  if (count < 1) {
    throw new LarderError('LARDER_ERR_BAD_ARGUMENT', `count must be at least 1, got ${count}`, {
      details: { argument: 'count' },
    });
  }
  return count;
}

function checkLastNSec(lastNSec: number): number {
  if (lastNSec < 0) {
    throw new LarderError('LARDER_ERR_BAD_ARGUMENT', `lastNSec must not be negative, got ${lastNSec}`, {
      details: { argument: 'lastNSec' },
    });
  }
  return lastNSec;
}
