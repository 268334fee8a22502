import { Command } from 'commander';
import { isLarderError } from '../errors.ts';
import { register as registerValidate } from './commands/validate.ts';
import { register as registerServe } from './commands/serve.ts';
import { register as registerDemo } from './commands/demo.ts';
import { register as registerDlq } from './commands/dlq.ts';
import { register as registerBackfill } from './commands/backfill.ts';
import { register as registerJobs } from './commands/jobs.ts';
import { register as registerScheduler } from './commands/scheduler.ts';
import { register as registerWorker } from './commands/worker.ts';
import { register as registerIngest } from './commands/ingest.ts';
import { register as registerStore } from './commands/store.ts';

const program = new Command('larder')
  .description('Real-time feature platform: stream and batch ingestion, online store, GraphQL serving.')
  .version('0.1.0')
  .showHelpAfterError();

registerValidate(program);
registerServe(program);
registerDemo(program);
registerDlq(program);
registerBackfill(program);
registerJobs(program);
registerScheduler(program);
registerWorker(program);
registerIngest(program);
registerStore(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (isLarderError(err)) {
    process.stderr.write(`error ${err.code}: ${err.message}\n  hint: ${err.hint}\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exitCode = 1;
}
