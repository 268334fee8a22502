import { readFileSync } from 'node:fs';
const s = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const f = s.snapshot.meta.node_fields; const types = s.snapshot.meta.node_types[0];
const n = f.length; const nodes = s.nodes; const strings = s.strings;
const agg = new Map();
for (let i = 0; i < nodes.length; i += n) {
  const type = types[nodes[i]]; const name = strings[nodes[i + 1]]; const size = nodes[i + 3];
  const key = type === 'object' || type === 'closure' ? `${type}:${name}` : type;
  const a = agg.get(key) ?? [0, 0]; a[0] += size; a[1]++; agg.set(key, a);
}
for (const [k, [size, count]] of [...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, 25)) console.log((size / 2 ** 20).toFixed(1).padStart(7), 'MB', String(count).padStart(9), k);
