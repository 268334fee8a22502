import type { FeatureDef } from './types.ts';

/**
 * The vector features of a registry: static `single` features with one field of type `vector(N)`.
 * Their stored value is the vector itself, so they are what `rankBy` compares.
 */
export function vectorDimension(feature: FeatureDef): number | undefined {
  if (feature.featureType !== 'static' || feature.containerType !== 'single') return undefined;
  if (feature.fields.length !== 1) return undefined;
  return feature.fields[0]!.type.vector;
}

/** The vector features among `features`, in declaration order. */
export function vectorFeatures(features: Iterable<FeatureDef>): FeatureDef[] {
  return [...features].filter((f) => vectorDimension(f) !== undefined);
}
