// Makes sure the services the test suite talks to are up: Redis (6379) and NATS JetStream (4222),
// and that the browser the console's tests drive is there: Debian's Chromium (`chromium`).
// Starts a stopped one, installs a missing one from Debian's packages when running as root, and says
// what it did. Every step has a time limit, so this never hangs. Kafka is started per test run
// (`ensureKafka`): a broker of our own on free ports, stopped when the run ends.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { startKafkaBroker } from './kafka-broker.js';

const SERVICES = [
  {
    name: 'redis',
    port: 6379,
    binary: 'redis-server',
    debPackage: 'redis-server',
    start: () => [
      'redis-server',
      [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        '/tmp',
      ],
    ],
  },
  {
    name: 'nats (JetStream)',
    port: 4222,
    binary: 'nats-server',
    debPackage: 'nats-server',
    start: () => {
      mkdirSync('/tmp/larder-nats-js', { recursive: true });
      return [
        'start-stop-daemon',
        [
          '--start',
          '--oknodo',
          '--background',
          '--exec',
          which('nats-server') ?? '/usr/sbin/nats-server',
          '--',
          '-a',
          '127.0.0.1',
          '-p',
          '4222',
          '-js',
          '-sd',
          '/tmp/larder-nats-js',
        ],
      ];
    },
  },
];

function which(bin) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/usr/local/bin'])) {
    if (dir && existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  }
  return undefined;
}

function portOpen(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(port, totalMs) {
  const deadline = Date.now() + totalMs;
  while (Date.now() < deadline) {
    if (await portOpen(port, 500)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Installs `pkg` with apt-get, each call bounded by `timeoutMs` (waiting at most 2 min for the dpkg lock). */
function install(pkg, timeoutMs = 300_000) {
  if (process.getuid?.() !== 0) {
    console.log(
      `[services] ${pkg} is not installed and this is not root; install it with: apt-get install -y ${pkg}`,
    );
    return false;
  }
  console.log(`[services] installing ${pkg} from Debian's packages (apt-get install -y ${pkg})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['install', '-y', '-o', 'DPkg::Lock::Timeout=120', pkg];
  let r = spawnSync('apt-get', args, { stdio: 'inherit', timeout: timeoutMs, env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', timeout: timeoutMs, env });
    r = spawnSync('apt-get', args, { stdio: 'inherit', timeout: timeoutMs, env });
  }
  return r.status === 0;
}

/** Debian's Chromium for the console's browser tests (test/console/browser/), installed if missing. */
function ensureChromium() {
  const found = which('chromium');
  if (found) {
    console.log(`[services] chromium is installed (${found})`);
    return;
  }
  // A browser is a large download: up to 10 minutes per apt-get call.
  const ok = install('chromium', 600_000);
  console.log(
    ok && which('chromium')
      ? `[services] chromium is now installed (${which('chromium')})`
      : '[services] chromium is unavailable; the console browser tests will fail with a clear error',
  );
}

export async function ensureServices() {
  ensureChromium();
  for (const svc of SERVICES) {
    if (await portOpen(svc.port)) {
      console.log(`[services] ${svc.name} is up on 127.0.0.1:${svc.port}`);
      continue;
    }
    if (!which(svc.binary) && !install(svc.debPackage)) {
      console.log(
        `[services] ${svc.name} is unavailable; the tests that need it will fail with a clear error`,
      );
      continue;
    }
    const [cmd, args] = svc.start();
    console.log(`[services] ${svc.name} was not running; starting it: ${cmd} ${args.join(' ')}`);
    try {
      execFileSync(cmd, args, { stdio: 'inherit', timeout: 15_000 });
    } catch (err) {
      console.log(`[services] starting ${svc.name} failed: ${err.message}`);
    }
    const up = await waitForPort(svc.port, 15_000);
    console.log(
      `[services] ${svc.name} ${up ? 'is now up' : 'did not come up within 15 s'} on 127.0.0.1:${svc.port}`,
    );
  }
}

/**
 * Starts a Kafka broker for this test run, unless LARDER_TEST_KAFKA_BROKERS already names one.
 * Returns the broker to pass on (`brokers`) and close afterwards, or undefined. On failure it says
 * why; the Kafka tests then try to start a broker themselves and fail with the same error.
 */
export async function ensureKafka() {
  const given = process.env.LARDER_TEST_KAFKA_BROKERS;
  if (given) {
    console.log(`[services] kafka: using LARDER_TEST_KAFKA_BROKERS=${given}`);
    return undefined;
  }
  try {
    return await startKafkaBroker({ log: (line) => console.log(`[services] ${line}`) });
  } catch (err) {
    console.log(`[services] kafka could not be started: ${err.message}`);
    return undefined;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await ensureServices();
