import cliProgress from 'cli-progress';
import type { JobView } from '../jobs/job-types.ts';
import { formatBytes } from '../task-split/split-job.ts';

/** The job's progress as a bar of `width` characters, as cli-progress draws it: `[████░░░░] 50.0%`. */
export function progressBar(view: JobView, width = 30): string {
  const p = view.progress;
  const fraction =
    p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : view.state === 'succeeded' ? 1 : 0;
  const full = Math.round(fraction * width);
  return `[${'\u2588'.repeat(full)}${'\u2591'.repeat(width - full)}] ${(fraction * 100).toFixed(1)}%`;
}

/**
 * Shows a job's progress while a command waits for it: a cli-progress bar when the output is a
 * terminal, otherwise a plain line every few seconds (and whenever the state changes), so logs of
 * CI runs stay readable.
 */
export class ProgressPrinter {
  #bar: cliProgress.SingleBar | undefined;
  #lastLineAt = 0;
  #lastState = '';

  readonly #lineEveryMs: number;
  readonly #tty: boolean;
  readonly #out: NodeJS.WriteStream;
  constructor(
    out: NodeJS.WriteStream = process.stderr,
    tty: boolean = process.stderr.isTTY === true,
    lineEveryMs = 2000,
  ) {
    this.#lineEveryMs = lineEveryMs;
    this.#tty = tty;
    this.#out = out;
  }

  update(view: JobView): void {
    const p = view.progress;
    if (this.#tty) {
      if (this.#bar === undefined && p.bytesTotal > 0) {
        this.#bar = new cliProgress.SingleBar(
          {
            format: `${view.ingestion} [{bar}] {percentage}% | {rows} rows | {rejected} rejected | tasks {tasks} | {state}`,
            hideCursor: true,
            stream: this.#out,
          },
          cliProgress.Presets.shades_classic,
        );
        this.#bar.start(p.bytesTotal, 0, this.#payload(view));
      }
      this.#bar?.update(p.bytesRead, this.#payload(view));
      return;
    }
    const now = Date.now();
    if (view.state === this.#lastState && now - this.#lastLineAt < this.#lineEveryMs) return;
    this.#lastState = view.state;
    this.#lastLineAt = now;
    const percent = p.bytesTotal > 0 ? ((100 * p.bytesRead) / p.bytesTotal).toFixed(1) : '0.0';
    this.#out.write(
      `job ${view.id} ${view.state}: ${percent}% (${formatBytes(p.bytesRead)} of ${formatBytes(p.bytesTotal)}), ` +
        `${p.rowsRead} rows, ${p.written} written, ${p.rejected} rejected, tasks ${p.tasksSucceeded}/${p.tasksTotal}\n`,
    );
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }

  #payload(view: JobView): Record<string, unknown> {
    const p = view.progress;
    return {
      rows: p.rowsRead,
      rejected: p.rejected,
      tasks: `${p.tasksSucceeded}/${p.tasksTotal}`,
      state: view.state,
    };
  }
}
