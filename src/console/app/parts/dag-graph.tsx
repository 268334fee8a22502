import type { JobDetail } from '../../../serve/admin/admin-types.ts';

const W = 180;
const H = 44;
const GAP_X = 60;
const GAP_Y = 18;

/**
 * The `dependsOn` graph as boxes in columns (a column per depth: dependencies left, dependents
 * right) with arrows, each box linking to its job of the run when there is one. A list says the
 * same in text for screen readers.
 */
export function DagGraph({ dag }: { dag: JobDetail['dag'] }) {
  const depth = new Map<string, number>();
  const deps = (name: string): string[] => dag.edges.filter(([, to]) => to === name).map(([from]) => from);
  const depthOf = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // a cycle the registry would have refused; draw it flat
    seen.add(name);
    const d = Math.max(-1, ...deps(name).map((p) => depthOf(p, seen))) + 1;
    depth.set(name, d);
    return d;
  };
  for (const node of dag.nodes) depthOf(node.ingestion, new Set());
  const columns = new Map<number, string[]>();
  for (const node of dag.nodes) {
    const d = depth.get(node.ingestion) ?? 0;
    columns.set(d, [...(columns.get(d) ?? []), node.ingestion]);
  }
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, names] of columns)
    names.forEach((n, i) => pos.set(n, { x: d * (W + GAP_X) + 4, y: i * (H + GAP_Y) + 4 }));
  const width = Math.max(...[...columns.keys()].map((d) => (d + 1) * (W + GAP_X))) - GAP_X + 8;
  const height = Math.max(...[...columns.values()].map((c) => c.length)) * (H + GAP_Y) - GAP_Y + 8;
  const summary = `${dag.nodes.length} ingestion${dag.nodes.length === 1 ? '' : 's'}, ${dag.edges.length} dependenc${dag.edges.length === 1 ? 'y' : 'ies'}`;

  return (
    <figure class="dag">
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Dependency graph: ${summary}`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="8"
            markerHeight="8"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#444" />
          </marker>
        </defs>
        {dag.edges.map(([from, to]) => {
          const a = pos.get(from);
          const b = pos.get(to);
          if (a === undefined || b === undefined) return null;
          return (
            <line
              key={`${from}>${to}`}
              x1={a.x + W}
              y1={a.y + H / 2}
              x2={b.x}
              y2={b.y + H / 2}
              stroke="#444"
              stroke-width="1.5"
              marker-end="url(#arrow)"
            />
          );
        })}
        {dag.nodes.map((node) => {
          const p = pos.get(node.ingestion) ?? { x: 0, y: 0 };
          const box = (
            <g class={`dag-node state-${node.job?.state ?? 'none'}${node.current ? ' current' : ''}`}>
              <rect x={p.x} y={p.y} width={W} height={H} rx="6" />
              <text x={p.x + 10} y={p.y + 18}>
                {node.ingestion.length > 22 ? `${node.ingestion.slice(0, 21)}…` : node.ingestion}
              </text>
              <text x={p.x + 10} y={p.y + 35} class="sub">
                {node.job?.state ?? 'no job in this run'}
              </text>
            </g>
          );
          return node.job === null || node.current ? (
            <g key={node.ingestion}>{box}</g>
          ) : (
            <a key={node.ingestion} href={node.job.url}>
              {box}
            </a>
          );
        })}
      </svg>
      <figcaption>
        <ul class="dag-text">
          {dag.nodes.map((node) => {
            const after = dag.edges.filter(([, to]) => to === node.ingestion).map(([from]) => from);
            return (
              <li key={node.ingestion}>
                {node.job === null || node.current ? (
                  node.ingestion
                ) : (
                  <a href={node.job.url}>{node.ingestion}</a>
                )}
                {node.current ? ' (this job)' : ''}: {node.job?.state ?? 'no job in this run'}
                {after.length === 0 ? '' : `, after ${after.join(', ')}`}
              </li>
            );
          })}
        </ul>
      </figcaption>
    </figure>
  );
}
