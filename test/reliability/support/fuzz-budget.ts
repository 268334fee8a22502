/**
 * How many inputs each fuzz property tries per `npm test`, tuned so the whole reliability suite
 * adds about two minutes on a shared 2-core machine (see docs/reliability.md for the figures).
 * `LARDER_FUZZ_SCALE=10 npx vitest run test/reliability` tries ten times as many.
 */
const scale = Number(process.env['LARDER_FUZZ_SCALE'] ?? '1') || 1;

const runs = (n: number): number => Math.max(1, Math.round(n * scale));

export const FUZZ_RUNS = {
  registryDocs: runs(300),
  registryTexts: runs(60),
  eventBatches: runs(120),
} as const;

/** Prints how many inputs a property tried, for docs/reliability.md. */
export function recordInputs(property: string, inputs: number): void {
  console.log(`[reliability] ${property}: ${inputs} inputs`);
}
