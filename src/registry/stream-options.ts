import { LarderError } from '../errors.ts';
import { parseDuration } from './duration.ts';
import type { StreamDef, StreamSourceKind } from './types.ts';

/**
 * The schema of `streams.<name>.options` (docs/streams.md): the consumer settings every broker
 * takes, and each adapter's own. `larder validate` runs these checks with the registry, reporting
 * each wrong value at its file:line:col; a consumer runs them again at start (deployment overrides
 * may have changed the options), where a wrong value stops it with `LARDER_ERR_STREAM_OPTION`.
 */

/** The consumer settings; every value has a default. */
export interface ConsumerOptions {
  /** Most messages fetched but not yet finished, per source. Bounds memory. */
  readonly maxInFlight: number;
  /** Most messages asked for in one fetch. */
  readonly fetchMax: number;
  /** How long one fetch waits for a first message. */
  readonly fetchWaitMs: number;
  /** Largest micro-batch handed to the ingestor (one durable store write). */
  readonly microBatchMax: number;
  /** Bounds and start of the adaptive limit on concurrently running micro-batches. */
  readonly concurrencyMin: number;
  readonly concurrencyMax: number;
  readonly concurrencyInitial: number;
  /** Backoff tiers of the retry streams; attempt n waits `retryDelaysMs[min(n-1, last)]`. */
  readonly retryDelaysMs: readonly number[];
  /** Attempts (first one included) before a transiently failing message is dead-lettered. */
  readonly maxAttempts: number;
  /** Messages in flight longer than this are reported as still in progress to the broker. */
  readonly touchIntervalMs: number;
}

export const DEFAULT_CONSUMER_OPTIONS: ConsumerOptions = Object.freeze({
  // Room for about three store commits' worth of events: one being written, one being flushed,
  // one filling. At 10,000 a durable LMDB commit held about 4,500 events and an append cost
  // about 10 µs; bigger commits amortise each B-tree page copy over more appends (BENCHMARKS.md).
  maxInFlight: 30_000,
  fetchMax: 5_000,
  fetchWaitMs: 1_000,
  // Few, big micro-batches: a store write's cost is partly per batch (one row meta per key per
  // batch in LMDB, one ack, one call), and the stores parallelise inside a batch themselves
  // (DynamoDB: 32 calls at a time). Measured on the ingestion benchmark against 1,000 / 32.
  microBatchMax: 5_000,
  concurrencyMin: 1,
  concurrencyMax: 8,
  concurrencyInitial: 4,
  retryDelaysMs: Object.freeze([1_000, 10_000, 60_000]),
  maxAttempts: 4,
  touchIntervalMs: 10_000,
});

/** The options every broker's consumer reads. */
export const CONSUMER_OPTION_KEYS = [
  'maxInFlight',
  'fetchMax',
  'fetchWait',
  'microBatchMax',
  'concurrency',
  'retryDelays',
  'maxAttempts',
  'touchInterval',
] as const;

/** Each adapter's own options, beside the consumer's. */
export const SOURCE_OPTION_KEYS: Readonly<Record<StreamSourceKind, readonly string[]>> = {
  http: [],
  redis: ['consumerName', 'claimIdle', 'dlqStream', 'startFrom'],
  nats: ['durable', 'ackWait', 'maxDeliver', 'maxAckPending', 'dlqStream', 'dlqSubject'],
  kinesis: ['startFrom', 'retryStream', 'dlqStream', 'leaseTable', 'leaseDuration'],
  kafka: [
    'clientId',
    'startFrom',
    'retryTopic',
    'dlqTopic',
    'retryGroup',
    'sessionTimeout',
    'heartbeatInterval',
  ],
};

/** Reads `streams.<name>.options` of a consumer about to start; throws on the first wrong value. */
export function readConsumerOptions(
  stream: string,
  options: Readonly<Record<string, unknown>>,
  report?: OptionReport,
): ConsumerOptions {
  const o = new OptionReader(stream, report);
  const d = DEFAULT_CONSUMER_OPTIONS;
  const concurrency = options.concurrency;
  const conc =
    typeof concurrency === 'object' && concurrency !== null ? (concurrency as Record<string, unknown>) : {};
  if (concurrency !== undefined && (typeof concurrency !== 'object' || concurrency === null)) {
    o.fail('concurrency', 'a map {min, max, initial}', concurrency);
  }
  const concurrencyMin = o.positiveInt(conc.min, 'concurrency.min') ?? d.concurrencyMin;
  let concurrencyMax =
    o.positiveInt(conc.max, 'concurrency.max') ?? Math.max(d.concurrencyMax, concurrencyMin);
  if (concurrencyMax < concurrencyMin) {
    o.fail('concurrency.max', `at least concurrency.min (${concurrencyMin})`, concurrencyMax);
    concurrencyMax = concurrencyMin;
  }
  const initial = o.positiveInt(conc.initial, 'concurrency.initial') ?? d.concurrencyInitial;
  const retryDelaysMs = o.durations(options.retryDelays, 'retryDelays') ?? d.retryDelaysMs;
  return {
    maxInFlight: o.positiveInt(options.maxInFlight, 'maxInFlight') ?? d.maxInFlight,
    fetchMax: o.positiveInt(options.fetchMax, 'fetchMax') ?? d.fetchMax,
    fetchWaitMs: o.duration(options.fetchWait, 'fetchWait') ?? d.fetchWaitMs,
    microBatchMax: o.positiveInt(options.microBatchMax, 'microBatchMax') ?? d.microBatchMax,
    concurrencyMin,
    concurrencyMax,
    concurrencyInitial: Math.min(concurrencyMax, Math.max(concurrencyMin, initial)),
    retryDelaysMs,
    maxAttempts: o.positiveInt(options.maxAttempts, 'maxAttempts') ?? retryDelaysMs.length + 1,
    touchIntervalMs: o.duration(options.touchInterval, 'touchInterval') ?? d.touchIntervalMs,
  };
}

/** Redis Streams options, as given (defaults depend on the host and topic: the adapter's). */
export interface RedisOptions {
  readonly consumerName: string | undefined;
  readonly claimIdleMs: number | undefined;
  readonly dlqStream: string | undefined;
  readonly startFrom: StartFrom | undefined;
}

export function readRedisOptions(def: OptionSource, report?: OptionReport): RedisOptions {
  const o = new OptionReader(def.name, report);
  return {
    consumerName: o.string(def.options.consumerName, 'consumerName'),
    claimIdleMs: o.duration(def.options.claimIdle, 'claimIdle'),
    dlqStream: o.string(def.options.dlqStream, 'dlqStream'),
    startFrom: o.startFrom(def.options.startFrom),
  };
}

/** NATS JetStream options, as given. */
export interface NatsOptions {
  readonly durable: string | undefined;
  readonly ackWaitMs: number | undefined;
  readonly maxDeliver: number | undefined;
  readonly maxAckPending: number | undefined;
  readonly dlqStream: string | undefined;
  readonly dlqSubject: string | undefined;
}

export function readNatsOptions(def: OptionSource, report?: OptionReport): NatsOptions {
  const o = new OptionReader(def.name, report);
  return {
    durable: o.string(def.options.durable, 'durable'),
    ackWaitMs: o.duration(def.options.ackWait, 'ackWait'),
    maxDeliver: o.positiveInt(def.options.maxDeliver, 'maxDeliver'),
    maxAckPending: o.positiveInt(def.options.maxAckPending, 'maxAckPending'),
    dlqStream: o.string(def.options.dlqStream, 'dlqStream'),
    dlqSubject: o.string(def.options.dlqSubject, 'dlqSubject'),
  };
}

/** Kinesis options, as given. */
export interface KinesisOptions {
  readonly startFrom: StartFrom | undefined;
  readonly retryStream: string | undefined;
  readonly dlqStream: string | undefined;
  /** DynamoDB table of shard leases and checkpoints; undefined: local checkpoints, one process. */
  readonly leaseTable: string | undefined;
  /** ms: a lease its owner did not renew this long is taken over. */
  readonly leaseDuration: number | undefined;
}

export function readKinesisOptions(def: OptionSource, report?: OptionReport): KinesisOptions {
  const o = new OptionReader(def.name, report);
  return {
    startFrom: o.startFrom(def.options.startFrom),
    retryStream: o.string(def.options.retryStream, 'retryStream'),
    dlqStream: o.string(def.options.dlqStream, 'dlqStream'),
    leaseTable: o.string(def.options.leaseTable, 'leaseTable'),
    leaseDuration: o.duration(def.options.leaseDuration, 'leaseDuration'),
  };
}

/** Kafka options, as given. */
export interface KafkaOptions {
  readonly clientId: string | undefined;
  readonly startFrom: StartFrom | undefined;
  readonly retryTopic: string | undefined;
  readonly dlqTopic: string | undefined;
  /** Consumer group of the retry topic. */
  readonly retryGroup: string | undefined;
  /** ms */
  readonly sessionTimeout: number | undefined;
  /** ms; shorter than the session timeout. */
  readonly heartbeatInterval: number | undefined;
}

export function readKafkaOptions(def: OptionSource, report?: OptionReport): KafkaOptions {
  const o = new OptionReader(def.name, report);
  const sessionTimeout = o.duration(def.options.sessionTimeout, 'sessionTimeout');
  let heartbeatInterval = o.duration(def.options.heartbeatInterval, 'heartbeatInterval');
  const session = sessionTimeout ?? KAFKA_SESSION_TIMEOUT_MS;
  if (heartbeatInterval !== undefined && heartbeatInterval >= session) {
    heartbeatInterval = o.fail(
      'heartbeatInterval',
      `shorter than sessionTimeout (${session} ms)`,
      heartbeatInterval,
    );
  }
  return {
    clientId: o.string(def.options.clientId, 'clientId'),
    startFrom: o.startFrom(def.options.startFrom),
    retryTopic: o.string(def.options.retryTopic, 'retryTopic'),
    dlqTopic: o.string(def.options.dlqTopic, 'dlqTopic'),
    retryGroup: o.string(def.options.retryGroup, 'retryGroup'),
    sessionTimeout,
    heartbeatInterval,
  };
}

/** SASL mechanisms the Kafka adapter speaks; `AWS_MSK_IAM` is OAUTHBEARER with a signed MSK token. */
export const KAFKA_SASL_MECHANISMS = [
  'PLAIN',
  'SCRAM-SHA-256',
  'SCRAM-SHA-512',
  'OAUTHBEARER',
  'AWS_MSK_IAM',
] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** TLS of a Kafka connection: files are PEM paths, read when the consumer starts. */
export interface KafkaTls {
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  /** Environment variable holding the passphrase of an encrypted `key`. */
  readonly keyPasswordEnv: string | undefined;
  /** Name the broker certificate must carry (and SNI), when it differs from the broker's host. */
  readonly serverName: string | undefined;
}

/**
 * SASL of a Kafka connection. Secrets are never values of the registry or the config file: they
 * are read from the environment variables named here, when the consumer starts.
 */
export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string | undefined;
  readonly passwordEnv: string | undefined;
  /** OAUTHBEARER: environment variable holding the bearer token. */
  readonly tokenEnv: string | undefined;
  /** AWS_MSK_IAM: the cluster's region (default: AWS_REGION). */
  readonly region: string | undefined;
}

export interface KafkaSecurity {
  readonly tls: KafkaTls | undefined;
  readonly sasl: KafkaSasl | undefined;
}

const TLS_KEYS = ['ca', 'cert', 'key', 'keyPasswordEnv', 'serverName'] as const;
const SASL_KEYS = ['mechanism', 'username', 'passwordEnv', 'tokenEnv', 'region'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads `streams.<name>.connection.tls` and `.sasl` of a Kafka stream; throws the first wrong
 * value as `LARDER_ERR_STREAM_OPTION`, naming its full path. Environment variables are only
 * named here; `kafka-security.ts` reads them at start.
 */
export function readKafkaSecurity(def: Pick<StreamDef, 'name' | 'connection'>): KafkaSecurity {
  const at = (key: string): string => `streams.${def.name}.connection.${key}`;
  const map = (value: unknown, where: string, keys: readonly string[]): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw optionError(where, `a map of ${keys.join(', ')}`, value);
    const m = value as Record<string, unknown>;
    for (const key of Object.keys(m)) {
      if (keys.includes(key)) continue;
      const secret = ['password', 'token', 'passphrase', 'keyPassword'].includes(key);
      throw new LarderError(
        'LARDER_ERR_STREAM_OPTION',
        secret
          ? `${where}.${key} is not read: secrets are never written in the registry or the config; ` +
              `put it in an environment variable and name that in ${where}.${key}Env`
          : `${where}.${key} is not a Kafka connection setting; known: ${keys.join(', ')}`,
        { details: { option: `${where}.${key}` } },
      );
    }
    return m;
  };
  const envName = (value: unknown, where: string): string | undefined => {
    const name = optionalString(value, where);
    if (name !== undefined && !ENV_NAME.test(name))
      throw optionError(where, 'the name of an environment variable (like KAFKA_PASSWORD)', name);
    return name;
  };

  const rawTls = def.connection.tls;
  let tls: KafkaTls | undefined;
  if (rawTls === true || rawTls === 'true') {
    tls = {
      caFile: undefined,
      certFile: undefined,
      keyFile: undefined,
      keyPasswordEnv: undefined,
      serverName: undefined,
    };
  } else if (rawTls !== undefined && rawTls !== null && rawTls !== false && rawTls !== 'false') {
    if (typeof rawTls !== 'object')
      throw optionError(at('tls'), 'true, false or a map of ' + TLS_KEYS.join(', '), rawTls);
    const t = map(rawTls, at('tls'), TLS_KEYS);
    tls = {
      caFile: optionalString(t.ca, at('tls.ca')),
      certFile: optionalString(t.cert, at('tls.cert')),
      keyFile: optionalString(t.key, at('tls.key')),
      keyPasswordEnv: envName(t.keyPasswordEnv, at('tls.keyPasswordEnv')),
      serverName: optionalString(t.serverName, at('tls.serverName')),
    };
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined))
      throw optionError(at('tls'), 'both cert and key (a client certificate), or neither', rawTls);
  }

  const rawSasl = def.connection.sasl;
  let sasl: KafkaSasl | undefined;
  if (rawSasl !== undefined && rawSasl !== null) {
    const s = map(rawSasl, at('sasl'), SASL_KEYS);
    const mechanism = optionalString(s.mechanism, at('sasl.mechanism'));
    if (mechanism === undefined || !(KAFKA_SASL_MECHANISMS as readonly string[]).includes(mechanism))
      throw optionError(at('sasl.mechanism'), `one of ${KAFKA_SASL_MECHANISMS.join(', ')}`, mechanism);
    sasl = {
      mechanism: mechanism as KafkaSaslMechanism,
      username: optionalString(s.username, at('sasl.username')),
      passwordEnv: envName(s.passwordEnv, at('sasl.passwordEnv')),
      tokenEnv: envName(s.tokenEnv, at('sasl.tokenEnv')),
      region: optionalString(s.region, at('sasl.region')),
    };
    const needs: Record<KafkaSaslMechanism, readonly ('username' | 'passwordEnv' | 'tokenEnv')[]> = {
      PLAIN: ['username', 'passwordEnv'],
      'SCRAM-SHA-256': ['username', 'passwordEnv'],
      'SCRAM-SHA-512': ['username', 'passwordEnv'],
      OAUTHBEARER: ['tokenEnv'],
      AWS_MSK_IAM: [],
    };
    for (const key of needs[sasl.mechanism]) {
      if (sasl[key] === undefined)
        throw optionError(at(`sasl.${key}`), `set for SASL ${sasl.mechanism}`, undefined);
    }
    if (sasl.mechanism === 'AWS_MSK_IAM' && (rawTls === false || rawTls === 'false'))
      throw optionError(at('tls'), 'on for AWS_MSK_IAM (MSK serves IAM on its TLS port 9098)', rawTls);
  }
  // MSK's IAM listener is TLS only.
  if (sasl?.mechanism === 'AWS_MSK_IAM' && tls === undefined)
    tls = {
      caFile: undefined,
      certFile: undefined,
      keyFile: undefined,
      keyPasswordEnv: undefined,
      serverName: undefined,
    };
  return { tls, sasl };
}

/** How long a Kafka group waits for a silent member, when `sessionTimeout` is not set. */
export const KAFKA_SESSION_TIMEOUT_MS = 30_000;

/**
 * Every check a consumer of `def` runs on its options at start, each problem reported instead of
 * thrown. Keys neither the consumer nor the adapter reads are reported as unknown.
 */
export function checkStreamOptions(
  def: OptionSource & Pick<StreamDef, 'source'>,
  report: OptionReport,
  reportUnknown: (key: string, known: readonly string[]) => void,
): void {
  const known = def.source === 'http' ? [] : [...CONSUMER_OPTION_KEYS, ...SOURCE_OPTION_KEYS[def.source]];
  for (const key of Object.keys(def.options)) if (!known.includes(key)) reportUnknown(key, known);
  if (def.source === 'http') return;
  readConsumerOptions(def.name, def.options, report);
  SOURCE_READERS[def.source](def, report);
}

const SOURCE_READERS: Readonly<
  Record<Exclude<StreamSourceKind, 'http'>, (def: OptionSource, report: OptionReport) => unknown>
> = {
  redis: readRedisOptions,
  nats: readNatsOptions,
  kinesis: readKinesisOptions,
  kafka: readKafkaOptions,
};

export type StartFrom = 'earliest' | 'latest';

/** What the option readers need of a stream. */
export type OptionSource = Pick<StreamDef, 'name' | 'options'>;

/**
 * Receives a wrong option value instead of a throw: `key` is its path under the options
 * (`concurrency.min`, `retryDelays[1]`), `error` the `LARDER_ERR_STREAM_OPTION` a start would throw.
 */
export type OptionReport = (key: string, error: LarderError) => void;

/** The `LARDER_ERR_STREAM_OPTION` of a wrong value at `where` (a full dotted path). */
export function optionError(where: string, expected: string, got: unknown): LarderError {
  return new LarderError(
    'LARDER_ERR_STREAM_OPTION',
    `${where} must be ${expected}, got ${JSON.stringify(got)}`,
    {
      details: { option: where },
    },
  );
}

const DURATION = 'a duration like 500ms, 10s, 1m (or a number of ms)';

/** A duration option: `500ms`, `10s`, ... or a number of milliseconds. Throws when it is neither. */
export function duration(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const ms = parseDuration(value);
    if (ms !== undefined) return ms;
  }
  throw optionError(where, DURATION, value);
}

/** A positive integer option (digits in a string too, as `${ENV}` substitution yields). */
export function positiveInt(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 1) return n;
  throw optionError(where, 'a positive integer', value);
}

/** A non-empty string option. */
export function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  throw optionError(where, 'a non-empty string', value);
}

/** The value readers of one stream's options: each wrong value is thrown, or reported. */
class OptionReader {
  readonly #report: OptionReport | undefined;
  readonly #stream: string;
  constructor(stream: string, report: OptionReport | undefined) {
    this.#report = report;
    this.#stream = stream;
  }

  fail(key: string, expected: string, got: unknown): undefined {
    return this.#failed(key, optionError(this.#where(key), expected, got));
  }

  positiveInt(value: unknown, key: string): number | undefined {
    return this.#read(key, () => positiveInt(value, this.#where(key)));
  }

  duration(value: unknown, key: string): number | undefined {
    return this.#read(key, () => duration(value, this.#where(key)));
  }

  string(value: unknown, key: string): string | undefined {
    return this.#read(key, () => optionalString(value, this.#where(key)));
  }

  startFrom(value: unknown): StartFrom | undefined {
    const text = this.string(value, 'startFrom');
    if (text === undefined || text === 'earliest' || text === 'latest') return text;
    return this.fail('startFrom', 'earliest or latest', text);
  }

  /** A non-empty list of durations. */
  durations(value: unknown, key: string): number[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.length === 0)
      return this.fail(key, 'a non-empty list of durations', value);
    const out = value.map((entry: unknown, i) =>
      entry === undefined || entry === null
        ? this.fail(`${key}[${i}]`, DURATION, entry)
        : this.duration(entry, `${key}[${i}]`),
    );
    return out.every((ms) => ms !== undefined) ? (out as number[]) : undefined;
  }

  #where(key: string): string {
    return `streams.${this.#stream}.options.${key}`;
  }

  #read<T>(key: string, read: () => T): T | undefined {
    if (this.#report === undefined) return read();
    try {
      return read();
    } catch (err) {
      if (!(err instanceof LarderError) || err.code !== 'LARDER_ERR_STREAM_OPTION') throw err;
      return this.#failed(key, err);
    }
  }

  #failed(key: string, error: LarderError): undefined {
    if (this.#report === undefined) throw error;
    this.#report(key, error);
    return undefined;
  }
}
