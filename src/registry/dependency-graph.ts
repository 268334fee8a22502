/**
 * The dependency graph of ingestions (`dependsOn`). Pure functions over `name -> dependencies`, so
 * the spec compiler (cycle check), the scheduler (run order) and the CLI share one definition.
 */
export type DependencyGraph = ReadonlyMap<string, readonly string[]>;

/**
 * The first cycle found, as the names along it with the first repeated at the end
 * (`['a', 'b', 'a']`), or undefined when the graph is acyclic. Dependencies that are not nodes of
 * the graph are ignored (the compiler reports them separately). Nodes are visited in map order,
 * so the same graph always names the same cycle.
 */
export function findCycle(graph: DependencyGraph): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const seen = state.get(node);
    if (seen === 'done') return undefined;
    if (seen === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (!graph.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/**
 * `nodes` in an order where every node comes after its dependencies (restricted to `nodes`). Ties
 * keep the order of `nodes`. Throws when the subgraph has a cycle (the compiler rejects those).
 */
export function topologicalOrder(graph: DependencyGraph, nodes: Iterable<string>): string[] {
  const wanted = new Set(nodes);
  const order: string[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (node: string): void => {
    if (placed.has(node)) return;
    if (visiting.has(node)) throw new Error(`dependency cycle through "${node}"`);
    visiting.add(node);
    for (const dep of graph.get(node) ?? []) if (wanted.has(dep)) place(dep);
    visiting.delete(node);
    placed.add(node);
    order.push(node);
  };
  for (const node of wanted) place(node);
  return order;
}

/** `root` and every node that depends on it, directly or transitively. */
export function downstreamOf(graph: DependencyGraph, root: string): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const [node, deps] of graph) {
    for (const dep of deps) {
      const list = dependents.get(dep) ?? [];
      list.push(node);
      dependents.set(dep, list);
    }
  }
  const out = new Set<string>([root]);
  const queue = [root];
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    for (const next of dependents.get(node) ?? []) {
      if (out.has(next)) continue;
      out.add(next);
      queue.push(next);
    }
  }
  return out;
}
