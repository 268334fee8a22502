// Types of scripts/kafka-broker.js, for the tests and benchmarks written in TypeScript.
export declare const KAFKA_VERSION: string;

export interface KafkaBroker {
  /** `127.0.0.1:<port>`: what clients bootstrap from. */
  readonly brokers: string;
  readonly port: number;
  /** The node's temp dir: server.properties, the KRaft log dir, broker.log. */
  readonly dir: string;
  readonly logFile: string;
  /** The secured listeners, when started with `users`. */
  readonly secured: SecuredListeners | undefined;
  /** Starts the node again on the same ports and log dir (after `kill` or `stop`). */
  start(): Promise<void>;
  /** SIGKILL: the broker dies at once, as in a crash. Its log dir stays for a restart. */
  kill(): Promise<void>;
  /** A clean shutdown; the log dir stays for a restart. */
  stop(): Promise<void>;
  /** Stops the node and removes its log dir. */
  close(): Promise<void>;
}

/** Listeners of a broker started with `users` (each `127.0.0.1:<port>`), and its certificate. */
export interface SecuredListeners {
  /**
   * SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for every user; OAUTHBEARER with
   * unsigned JWTs (`alg: none`, a `sub` and an `exp`), Kafka's default validator.
   */
  readonly sasl: string;
  /** SSL: TLS without SASL. */
  readonly tls: string;
  /** SASL_SSL: both. */
  readonly secure: string;
  /** The self-signed certificate of the TLS listeners (PEM), to trust as `ca`. */
  readonly caFile: string;
  /** The only name that certificate carries (not 127.0.0.1). */
  readonly serverName: string;
}

export declare const TLS_SERVER_NAME: string;

type Log = (line: string) => void;

export declare function kafkaCacheDir(version?: string): string;
export declare function resolveKafka(options?: { version?: string; timeoutMs?: number; log?: Log }): string;
export declare function freePort(): Promise<number>;
export declare function startKafkaBroker(options?: {
  lib?: string;
  /** Server properties to add or override. */
  config?: Record<string, string>;
  /** user → password: adds the SASL, TLS and SASL_SSL listeners (`secured`) with these users. */
  users?: Record<string, string>;
  startTimeoutMs?: number;
  log?: Log;
}): Promise<KafkaBroker>;
