import { LarderError } from '../../../errors.ts';
import type { JobTracker } from './job-tracker.ts';
import { isTerminal, type JobRecord } from './job-types.ts';

/**
 * Cancels an unfinished job; its running tasks stop at their next batch. What `larder jobs cancel`
 * and the console's cancel button both run. Throws LARDER_ERR_BATCH_JOB_NOT_FOUND, or
 * LARDER_ERR_BATCH_JOB_STATE when the job has already finished.
 */
export async function cancelJob(tracker: JobTracker, id: string, reason: string): Promise<JobRecord> {
  const job = await tracker.store.getJob(id);
  if (job === undefined) {
    throw new LarderError('LARDER_ERR_BATCH_JOB_NOT_FOUND', `no job with id ${id}`, { details: { job: id } });
  }
  if (isTerminal(job.state)) {
    throw new LarderError('LARDER_ERR_BATCH_JOB_STATE', `job ${id} already ${job.state}; nothing to cancel`);
  }
  return (await tracker.cancel(id, reason)) ?? job;
}
