// The layering of src/, checked by `npm run lint:layers` (a step of `npm test`) and proven able to
// fail by test/lint/layering.test.ts. Each layer may import itself and the layers below it, never a
// layer above it nor a peer on its own rank; import cycles are forbidden everywhere, type-only
// imports included (a type cycle still ties two modules together for a reader).
//
//   cli
//   runtime
//   ingest | serve               (peers: serve may use only the ingest contracts listed below)
//   cache
//   store
//   keys
//   config                       (the config file's schema: engines, cache levels, serve, batch)
//   registry
//   errors.ts, threads/          (import nothing from src)
//
// Inside serve, the GraphQL fast path (serve/fast-path/) sits on top of the serving core.

/** Layers from the bottom up. Layers on one rank are peers and may not import each other. */
export const LAYERS = [
  [{ name: 'base', path: '^src/(errors[.]ts$|threads/)' }],
  [{ name: 'registry', path: '^src/registry/' }],
  [{ name: 'config', path: '^src/config/' }],
  [{ name: 'keys', path: '^src/keys/' }],
  [{ name: 'store', path: '^src/store/' }],
  [{ name: 'cache', path: '^src/cache/' }],
  [
    { name: 'ingest', path: '^src/ingest/' },
    { name: 'serve', path: '^src/serve/' },
  ],
  [{ name: 'runtime', path: '^src/runtime/' }],
  [{ name: 'cli', path: '^src/cli/' }],
];

/** What serving may take from ingestion: the write-path contract and the types it speaks in. */
export const INGEST_CONTRACTS = [
  '^src/ingest/ingestor-contract[.]ts$',
  '^src/ingest/types[.]ts$',
  '^src/ingest/unparseable[.]ts$',
];

const SEVERITY = 'error';

function layerRules() {
  const rules = [];
  LAYERS.forEach((rank, r) => {
    const above = LAYERS.slice(r + 1).flat();
    for (const layer of rank) {
      if (above.length > 0) {
        rules.push({
          name: `layer-${layer.name}-imports-upward`,
          comment: `${layer.name} may not import ${above.map((l) => l.name).join(', ')} (layers above it)`,
          severity: SEVERITY,
          from: { path: layer.path },
          to: { path: above.map((l) => l.path) },
        });
      }
      for (const peer of rank.filter((l) => l !== layer)) {
        const contracts = layer.name === 'serve' && peer.name === 'ingest' ? INGEST_CONTRACTS : [];
        rules.push({
          name: `layer-${layer.name}-imports-peer-${peer.name}`,
          comment:
            contracts.length > 0
              ? `${layer.name} may take only the ingestor contracts from ${peer.name}`
              : `${layer.name} and ${peer.name} are peers and may not import each other`,
          severity: SEVERITY,
          from: { path: layer.path },
          to: contracts.length > 0 ? { path: peer.path, pathNot: contracts } : { path: peer.path },
        });
      }
    }
  });
  return rules;
}

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'modules may not import each other, directly or through others (type imports count)',
      severity: SEVERITY,
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-imports-outside-src',
      comment: 'the product never imports examples, tests, benchmarks or scripts',
      severity: SEVERITY,
      from: { path: '^src/' },
      to: { path: '^(examples|test|bench|scripts)/' },
    },
    {
      name: 'serve-core-imports-fast-path',
      comment:
        'the fast path sits on top of the serving core: only the app that installs it imports it ' +
        '(when the install moves, e.g. into a Fastify plugin, name that file in pathNot)',
      severity: SEVERITY,
      from: { path: '^src/serve/', pathNot: ['^src/serve/fast-path/', '^src/serve/server[.]ts$'] },
      to: { path: '^src/serve/fast-path/' },
    },
    {
      name: 'console-imports-server',
      comment:
        'the web console (src/console/app) is a front-end of its own build: of the server it may use only ' +
        'the admin API types it shares',
      severity: SEVERITY,
      from: { path: '^src/console/app/' },
      to: { path: '^src/', pathNot: ['^src/console/app/', '^src/serve/admin/admin-types[.]ts$'] },
    },
    ...layerRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The console's committed build output is generated code, not source.
    exclude: { path: '^src/console/dist/' },
    // Type-only imports are edges too: a type cycle is a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
