import type { JobLogLine, JobRecord, JobView } from '../jobs/job-types.ts';
import { formatBytes } from '../task-split/split-job.ts';
import { progressBar } from './progress-printer.ts';

/** One line per job for `larder jobs list`. */
export function formatJobLine(job: JobRecord | JobView): string {
  const when = new Date(job.createdAt).toISOString().replace('T', ' ').slice(0, 19);
  const progress =
    'progress' in job
      ? `  ${job.progress.rowsRead} rows, ${job.progress.rejected} rejected, tasks ${job.progress.tasksSucceeded}/${job.progress.tasksTotal}`
      : '';
  const failure = job.failure === undefined ? '' : `  ${job.failure.code}`;
  return `${job.id}  ${job.state.padEnd(9)}  ${when}  ${job.ingestion}  attempt ${job.attempt}${progress}${failure}`;
}

/** The full story of one job for `larder jobs show` and the end of `larder backfill`. */
export function formatJobDetails(
  view: JobView,
  consoleUrl: string,
  logs: readonly JobLogLine[] = [],
): string {
  const p = view.progress;
  const lines = [
    `job ${view.id}  ${view.state}  (attempt ${view.attempt}, ${view.mode}, ${view.trigger})`,
    `  url:        ${consoleUrl}${view.url}`,
    `  ingestion:  ${view.ingestion} → ${view.spec.entity.name}.${view.spec.feature.name}  from ${view.spec.ingestion.source.path}`,
    `  rows:       ${p.rowsRead} read, ${p.written} written, ${p.filtered} filtered, ${p.rejected} rejected (${(p.errorRate * 100).toFixed(2)}%, limit ${(view.spec.ingestion.maxErrorRate * 100).toFixed(2)}%)`,
    `  progress:   ${progressBar(view)}`,
    `  bytes:      ${formatBytes(p.bytesRead)} of ${formatBytes(p.bytesTotal)}`,
    `  tasks:      ${p.tasksSucceeded} succeeded, ${p.tasksRunning} running, ${p.tasksFailed} failed, of ${p.tasksTotal}`,
  ];
  if (view.plan !== undefined) lines.push(`  plan:       ${view.plan.explanation}`);
  if (view.startedAt !== undefined) {
    const end = view.finishedAt ?? Date.now();
    const seconds = (end - view.startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(p.rowsRead / seconds) : 0;
    lines.push(`  time:       ${seconds.toFixed(1)} s (${rate} rows/s)`);
  }
  if (view.failure !== undefined) lines.push(`  failure:    ${view.failure.code}: ${view.failure.message}`);
  if (view.errorSamples.length > 0) {
    lines.push('  bad rows (sample):');
    for (const sample of view.errorSamples.slice(0, 10)) {
      lines.push(`    ${sample.position}  ${sample.code}  ${sample.reason}`);
      lines.push(`      ${sample.row}`);
    }
  }
  if (logs.length > 0) {
    lines.push('  log:');
    for (const line of logs)
      lines.push(`    ${new Date(line.at).toISOString()}  ${line.level.padEnd(5)}  ${line.message}`);
  }
  return lines.join('\n');
}
