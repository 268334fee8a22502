// `npm test`: the whole suite. Services first, then types, lint, layering and format, then every test.
import { spawnSync } from 'node:child_process';
import { ensureKafka, ensureServices } from './ensure-services.js';

await ensureServices();
// One broker for the whole run; the Kafka tests find it through the environment.
const kafka = await ensureKafka();
const env = kafka ? { ...process.env, LARDER_TEST_KAFKA_BROKERS: kafka.brokers } : process.env;

const steps = [
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['typecheck console', 'npx', ['tsc', '-p', 'src/console/tsconfig.json']],
  ['lint', 'npx', ['eslint', '.']],
  ['layers', 'npx', ['depcruise', 'src', '--config', '.dependency-cruiser.js', '--output-type', 'err']],
  ['format', 'npx', ['prettier', '--check', '.']],
  ['tests', 'npx', ['vitest', 'run', ...process.argv.slice(2)]],
];

let failed = [];
for (const [name, cmd, args] of steps) {
  console.log(`\n[test] ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.status !== 0) failed.push(name);
}
if (kafka) {
  await kafka.close();
  console.log(`\n[test] kafka broker on ${kafka.brokers} stopped`);
}
if (failed.length > 0) {
  console.log(`\n[test] failed steps: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('\n[test] all steps passed');
