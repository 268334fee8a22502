// A small category predictor shared by the `command` and `http` handlers: keyword weights per
// category, the highest total wins. It stands for a real model (scikit-learn, an LLM call...):
// loaded once when its process starts, then asked many times.

const WEIGHTS = {
  electronics: { ipad: 3, switch: 2, nintendo: 3, monitor: 3, camera: 3, phone: 3, laptop: 3, air: 1 },
  kids: { baby: 3, stroller: 3, lego: 3, toy: 2, kids: 2 },
  outdoor: { bike: 3, road: 1, camping: 3, tent: 3, chair: 1, helmet: 2 },
  home: { lamp: 3, desk: 2, sofa: 3, rice: 2, cooker: 3, chair: 1, table: 2 },
};

/** `{category, score}`; `other` when no keyword matches. Score: the winner's share of all matches. */
export function predictCategory(title) {
  const words =
    String(title)
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  let best = 'other';
  let bestScore = 0;
  let total = 0;
  for (const [category, weights] of Object.entries(WEIGHTS)) {
    const score = words.reduce((sum, word) => sum + (weights[word] ?? 0), 0);
    total += score;
    if (score > bestScore) [best, bestScore] = [category, score];
  }
  return { category: best, score: total === 0 ? 0 : Math.round((bestScore / total) * 100) / 100 };
}
