/**
 * Preloaded into a server process by the serving benchmark (`node --import tsx --import
 * bench/serve/gc-observer.ts bin/larder serve ...`): a `PerformanceObserver` on `gc` entries sums
 * the time spent in GC and keeps the longest pause, and the totals (with the heap in use) are
 * written to `$BENCH_GC_DIR/gc-<pid>.json` every 100 ms. The benchmark reads the files before and
 * after a load run: GC time per second of load, the longest pause, the heap. Cluster workers
 * inherit the preload (execArgv), one file each. Does nothing without `BENCH_GC_DIR`.
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

export interface GcTotals {
  readonly pid: number;
  /** When the totals were written, ms since the epoch. */
  readonly at: number;
  readonly gcMs: number;
  /** Of `gcMs`, the time in full (mark-compact) collections; the rest is mostly scavenges. */
  readonly majorMs: number;
  readonly count: number;
  /** The longest single pause since the last `reset` (SIGUSR2), ms. */
  readonly maxPauseMs: number;
  /** Pauses of 5 ms or more so far. */
  readonly longPauses: number;
  /**
   * Bytes allocated on the V8 heap so far: from `v8.GCProfiler`, the growth of the used heap
   * between the end of each GC and the start of the next, plus the growth since the last one.
   */
  readonly allocatedBytes: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /** The young generation's current size (both semi-spaces): shows `--max-semi-space-size` at work. */
  readonly newSpaceBytes: number;
}

interface GcProfile {
  readonly statistics: readonly {
    readonly beforeGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
    readonly afterGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
  }[];
}

const dir = process.env['BENCH_GC_DIR'];
if (dir !== undefined && dir !== '') {
  let gcMs = 0;
  let majorMs = 0;
  let count = 0;
  let maxPauseMs = 0;
  let longPauses = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
        majorMs += entry.duration;
      count++;
      if (entry.duration > maxPauseMs) maxPauseMs = entry.duration;
      if (entry.duration >= 5) longPauses++;
    }
  }).observe({ entryTypes: ['gc'] });
  // The longest pause of a window: the benchmark resets it when a measured run starts.
  process.on('SIGUSR2', () => {
    maxPauseMs = 0;
  });
  const profiler = new v8.GCProfiler();
  profiler.start();
  let allocatedAtLastGc = 0;
  let usedAfterLastGc = process.memoryUsage().heapUsed;
  const file = path.join(dir, `gc-${process.pid}.json`);
  const write = (): void => {
    const profile = profiler.stop() as unknown as GcProfile;
    profiler.start();
    for (const gc of profile.statistics) {
      allocatedAtLastGc += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - usedAfterLastGc);
      usedAfterLastGc = gc.afterGC.heapStatistics.usedHeapSize;
    }
    const memory = process.memoryUsage();
    const totals: GcTotals = {
      pid: process.pid,
      at: Date.now(),
      gcMs,
      majorMs,
      count,
      maxPauseMs,
      longPauses,
      allocatedBytes: allocatedAtLastGc + Math.max(0, memory.heapUsed - usedAfterLastGc),
      heapUsedBytes: memory.heapUsed,
      rssBytes: memory.rss,
      newSpaceBytes: v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0,
    };
    // Written aside and renamed: a reader never sees a half-written file.
    writeFileSync(`${file}.tmp`, JSON.stringify(totals));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 100).unref();
}
