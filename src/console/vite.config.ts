import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console's own build: `npm run console:build` (scripts/console-build.ts) runs it and records
 * the hash of the sources the build came from. The output in dist/ is committed, so `larder serve`
 * serves it with no build step; `/console/` is its base path.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The playground's editor (CodeMirror + GraphQL) is its own chunk, loaded when its page opens.
    chunkSizeWarningLimit: 700,
  },
});
