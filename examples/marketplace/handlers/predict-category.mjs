// A `command` enrichment handler in plain Node: started once by the worker and kept alive. It reads
// one JSON line per call on stdin, {"id": ..., "input": {...}}, and answers one line on stdout,
// {"id": ..., "result": {...}} or {"id": ..., "error": "..."}. Answers may come in any order (the
// ids match them up), so a slow call never holds up the others. Logs go to stderr.
import process from 'node:process';
import { createInterface } from 'node:readline';
import { predictCategory } from './category-model.mjs';

const answer = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  let id;
  try {
    const call = JSON.parse(line);
    id = call.id;
    if (typeof call.input?.title !== 'string') return answer({ id, error: 'input.title must be a string' });
    answer({ id, result: predictCategory(call.input.title) });
  } catch (err) {
    answer({ id, error: `bad request line: ${err.message}` });
  }
});
process.stderr.write(`category predictor ready (pid ${process.pid})\n`);
