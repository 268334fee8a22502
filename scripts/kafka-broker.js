// A real Apache Kafka broker for the tests, from Maven Central's artifacts: resolve once into a cache
// folder, then run a single KRaft node (broker + controller) on free 127.0.0.1 ports in a temp dir.
// Every step has a deadline, so this never hangs; every failure says what to do.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const KAFKA_VERSION = '4.1.1';
const SLF4J_VERSION = '2.0.17';

/** `~/.cache/larder-test/kafka-<version>`, or under LARDER_TEST_CACHE when set. */
export function kafkaCacheDir(version = KAFKA_VERSION) {
  const root = process.env.LARDER_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'larder-test');
  return path.join(root, `kafka-${version}`);
}

function pom(version) {
  // slf4j-api is named so that the 2.x binding is not paired with the 1.7 API Kafka brings along.
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>larder.test</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>${SLF4J_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>${SLF4J_VERSION}</version></dependency>
  </dependencies>
</project>
`;
}

/**
 * The folder of jars that runs the broker, resolved with Maven on first use. Later calls find it
 * in the cache. Concurrent first calls are safe: each resolves into its own folder and the first
 * rename wins.
 */
export function resolveKafka({ version = KAFKA_VERSION, timeoutMs = 600_000, log = console.log } = {}) {
  const cache = kafkaCacheDir(version);
  const lib = path.join(cache, 'lib');
  if (existsSync(lib) && readdirSync(lib).some((f) => f.startsWith(`kafka_2.13-${version}`))) return lib;
  for (const tool of ['java', 'mvn']) {
    if (spawnSync(tool, ['-version'], { stdio: 'ignore', timeout: 30_000 }).status !== 0)
      throw new Error(`the Kafka test broker needs ${tool} on the PATH (Java 17+ and Maven 3.8+)`);
  }
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(path.join(cache, 'resolve-'));
  try {
    writeFileSync(path.join(work, 'pom.xml'), pom(version));
    log(`[kafka] resolving org.apache.kafka:kafka_2.13:${version} with Maven into ${lib} (once)`);
    const started = Date.now();
    const r = spawnSync(
      'mvn',
      ['-q', '-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', '-DoutputDirectory=lib'],
      { cwd: work, encoding: 'utf8', timeout: timeoutMs },
    );
    if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM')
      throw new Error(`resolving Kafka with Maven took longer than ${timeoutMs / 1000} s; gave up`);
    if (r.status !== 0)
      throw new Error(`resolving Kafka with Maven failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    try {
      renameSync(path.join(work, 'lib'), lib);
    } catch (err) {
      if (!existsSync(lib)) throw err; // another process won the race: its folder is as good
    }
    log(`[kafka] resolved in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return lib;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Server properties of the secured listeners: SASL (SASL_PLAINTEXT), TLS (SSL), SECURE (SASL_SSL). */
function securedProperties(secured, dir) {
  if (secured === undefined) return [];
  const { ports, users } = secured;
  const plainUsers = Object.entries(users)
    .map(([name, password]) => `user_${name}="${password}"`)
    .join(' ');
  const perListener = ['sasl', 'secure'].flatMap((l) => [
    `listener.name.${l}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    `listener.name.${l}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `listener.name.${l}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    // Kafka's default OAUTHBEARER validator: unsigned JWTs (alg none) with `sub` and `exp`.
    `listener.name.${l}.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";`,
  ]);
  return [
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    ...perListener,
    // The key and certificate the test generated (`tlsFiles`), as a PEM key store.
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${path.join(dir, 'tls', 'broker.pem')}`,
    'ssl.client.auth=none',
    `# secured listeners on ${ports.sasl}, ${ports.tls}, ${ports.secure}`,
  ];
}

/**
 * A self-signed certificate for the TLS listeners, made with openssl: its only name is
 * TLS_SERVER_NAME (not 127.0.0.1), so a client must trust it (`ca`) and name it (`serverName`).
 */
export const TLS_SERVER_NAME = 'kafka.larder.test';

function tlsFiles(dir) {
  const tls = path.join(dir, 'tls');
  mkdirSync(tls, { recursive: true });
  const [key, cert] = [path.join(tls, 'key.pem'), path.join(tls, 'ca.pem')];
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${TLS_SERVER_NAME}`,
      '-addext',
      `subjectAltName=DNS:${TLS_SERVER_NAME}`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`openssl could not make the test certificate: ${r.stderr ?? r.error}`);
  writeFileSync(path.join(tls, 'broker.pem'), readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'));
  return cert;
}

function serverProperties({ port, controllerPort, logDir, config, secured, dir }) {
  const extra = Object.entries(config ?? {}).map(([k, v]) => `${k}=${v}`);
  const p = secured?.ports;
  const more =
    p === undefined
      ? ''
      : `,SASL://127.0.0.1:${p.sasl},TLS://127.0.0.1:${p.tls},SECURE://127.0.0.1:${p.secure}`;
  const protocols = p === undefined ? '' : ',SASL:SASL_PLAINTEXT,TLS:SSL,SECURE:SASL_SSL';
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${more}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}${more}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${protocols}`,
    ...securedProperties(secured, dir),
    `log.dirs=${logDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=8',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests join groups all the time: no 3 s wait for more members on a new group.
    'group.initial.rebalance.delay.ms=0',
    // ...and let them use short sessions, so that a killed member is replaced within seconds.
    'group.min.session.timeout.ms=1000',
    // After a crash the node re-registers only once its old registration expired (default 9 s).
    'broker.heartbeat.interval.ms=1000',
    'broker.session.timeout.ms=4000',
    // As on MSK by default: topics exist because someone created them.
    'auto.create.topics.enable=false',
    ...extra,
    '',
  ].join('\n');
}

const JAVA_OPTS = ['-Xms128m', '-Xmx768m', '-XX:+UseSerialGC', '-Djava.awt.headless=true'];

/**
 * Formats a fresh KRaft log dir and starts the node; `config` adds or overrides server
 * properties (`{ 'group.max.size': '1' }`). Resolves once the broker port accepts
 * connections; rejects (and cleans up) after `startTimeoutMs` with the tail of the broker log.
 *
 * The JVM runs under a small shell guard that kills it when this process's end of its stdin pipe
 * closes: a test run that dies by SIGKILL leaves no broker behind.
 */
export async function startKafkaBroker({
  lib,
  config,
  users,
  startTimeoutMs = 60_000,
  log = console.log,
} = {}) {
  lib ??= resolveKafka({ log });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'larder-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  let secured;
  let caFile;
  if (users !== undefined) {
    secured = { users, ports: { sasl: await freePort(), tls: await freePort(), secure: await freePort() } };
    try {
      caFile = tlsFiles(dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const configFile = path.join(dir, 'server.properties');
  writeFileSync(
    configFile,
    serverProperties({ port, controllerPort, logDir: path.join(dir, 'data'), config, secured, dir }),
  );
  const cp = `${lib}/*`;
  const java = (args, timeout) =>
    spawnSync('java', [...JAVA_OPTS, '-cp', cp, ...args], { encoding: 'utf8', timeout });
  const uuid = java(['kafka.tools.StorageTool', 'random-uuid'], 60_000);
  const clusterId = uuid.stdout?.trim().split('\n').pop();
  if (uuid.status !== 0 || !clusterId) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kafka.tools.StorageTool random-uuid failed: ${uuid.stderr ?? uuid.error}`);
  }
  // SCRAM credentials live in the cluster metadata: they are written when the log dir is formatted.
  const scram = Object.entries(users ?? {}).flatMap(([name, password]) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
      '--add-scram',
      `${m}=[name=${name},password=${password}]`,
    ]),
  );
  const format = java(
    ['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile, ...scram],
    60_000,
  );
  if (format.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`formatting the KRaft log dir failed: ${format.stdout}${format.stderr}`);
  }
  const broker = {
    brokers: `127.0.0.1:${port}`,
    port,
    dir,
    logFile: path.join(dir, 'broker.log'),
    secured:
      secured === undefined
        ? undefined
        : {
            sasl: `127.0.0.1:${secured.ports.sasl}`,
            tls: `127.0.0.1:${secured.ports.tls}`,
            secure: `127.0.0.1:${secured.ports.secure}`,
            caFile,
            serverName: TLS_SERVER_NAME,
          },
    process: undefined,
    /** Starts the node again on the same ports and log dir (after `kill` or `stop`). */
    start: () => launch(broker, cp, configFile, startTimeoutMs),
    /** SIGKILL: the broker dies at once, as in a crash. Its log dir stays for a restart. */
    kill: () => halt(broker, 'KILL'),
    /** A clean shutdown; the log dir stays for a restart. */
    stop: () => halt(broker, 'TERM'),
    /** Stops the node and removes its log dir. */
    async close() {
      await halt(broker, 'KILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await broker.start();
  } catch (err) {
    await broker.close();
    throw err;
  }
  log(`[kafka] broker ${KAFKA_VERSION} (KRaft, 1 node) up on ${broker.brokers}, log dir ${dir}`);
  return broker;
}

async function launch(broker, cp, config, startTimeoutMs) {
  const javaCmd = ['java', ...JAVA_OPTS, '-cp', `'${cp}'`, 'kafka.Kafka', `'${config}'`].join(' ');
  // `read` returns when our end of the pipe closes (we exited or `halt` closed it); then the JVM
  // gets the signal named in the halt file (TERM unless told otherwise) and the guard waits for it.
  const guard = [
    `${javaCmd} >> '${broker.logFile}' 2>&1 &`,
    'J=$!',
    `echo $J > '${broker.dir}/java.pid'`,
    `trap 'kill -TERM $J 2>/dev/null' INT TERM`,
    'read _ || true',
    `S=$(cat '${broker.dir}/halt' 2>/dev/null || echo TERM)`,
    'kill -$S $J 2>/dev/null',
    'wait $J',
  ].join('\n');
  rmSync(path.join(broker.dir, 'halt'), { force: true });
  const child = spawn('sh', ['-c', guard], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin.on('error', () => undefined);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  broker.process = { child, exited };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (await portOpen(broker.port)) return;
    const gone = await Promise.race([exited.then(() => true), sleep(250).then(() => false)]);
    if (gone || Date.now() > deadline) {
      await halt(broker, 'KILL');
      const tail = tailOf(broker.logFile);
      throw new Error(
        gone
          ? `the Kafka broker exited while starting; its log ends with:\n${tail}`
          : `the Kafka broker did not listen on ${broker.brokers} within ${startTimeoutMs / 1000} s; its log ends with:\n${tail}`,
      );
    }
  }
}

async function halt(broker, signal) {
  const running = broker.process;
  if (running === undefined) return;
  broker.process = undefined;
  writeFileSync(path.join(broker.dir, 'halt'), signal);
  running.child.stdin.end();
  const done = await Promise.race([running.exited.then(() => true), sleep(30_000).then(() => false)]);
  if (!done) {
    // The JVM ignored the signal for 30 s: kill it and its guard outright.
    try {
      process.kill(Number(readFileSync(path.join(broker.dir, 'java.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
    running.child.kill('SIGKILL');
  }
  // The port is free once the JVM is gone; a restart right away must not find it taken.
  for (let i = 0; i < 40 && (await portOpen(broker.port)); i += 1) await sleep(250);
}

function tailOf(file) {
  try {
    const r = spawnSync('tail', ['-n', '30', file], { encoding: 'utf8', timeout: 5_000 });
    return r.stdout;
  } catch {
    return '(no log)';
  }
}
