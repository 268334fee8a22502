// A `module` enrichment handler: a 64-dimension feature-hashing embedding of an article title.
// No weights to download: each word and each character trigram of the title is hashed to one of
// 64 dimensions with a sign, the counts are summed and the vector is scaled to unit length, so
// titles that share words and spellings point the same way. Plain Node, no packages.
//
// Contract (docs/enrichment.md): the default export is `async (input, ctx) => result`. Whatever the
// module keeps at its top level (here a cache of hashed tokens; for a real model, the loaded
// weights) lives as long as its worker thread and is shared by every call that thread runs.

const DIMENSIONS = 64;
/** token -> [dimension, sign]: what a real handler would hold as its loaded model. */
const hashed = new Map();

/** FNV-1a, 32 bits. */
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function slot(token) {
  let found = hashed.get(token);
  if (found === undefined) {
    const hash = fnv1a(token);
    found = [hash % DIMENSIONS, hash & 0x80000000 ? -1 : 1];
    if (hashed.size < 100_000) hashed.set(token, found);
  }
  return found;
}

function tokens(title) {
  const words = title.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const out = [...words];
  for (const word of words) {
    const padded = `#${word}#`;
    for (let i = 0; i + 3 <= padded.length; i++) out.push(`3:${padded.slice(i, i + 3)}`);
  }
  return out;
}

export default async function embedTitle(input) {
  if (typeof input.title !== 'string') throw new Error('input.title must be a string');
  const vector = new Array(DIMENSIONS).fill(0);
  for (const token of tokens(input.title)) {
    const [dimension, sign] = slot(token);
    vector[dimension] += sign;
  }
  const norm = Math.hypot(...vector) || 1;
  // A plain JSON array of 64 numbers: the features that ingest it are `vector(64)`, stored as float32.
  return { embedding: vector.map((x) => Math.round((x / norm) * 1e4) / 1e4) };
}
