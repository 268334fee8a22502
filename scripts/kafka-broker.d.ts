// Types of scripts/kafka-broker.js, for the tests and benchmarks written in TypeScript.
export declare const KAFKA_VERSION: string;

export interface KafkaBroker {
  /** `127.0.0.1:<port>`: what clients bootstrap from. */
  readonly brokers: string;
  readonly port: number;
  /** The node's temp dir: server.properties, the KRaft log dir, broker.log. */
  readonly dir: string;
  readonly logFile: string;
  /** Starts the node again on the same ports and log dir (after `kill` or `stop`). */
  start(): Promise<void>;
  /** SIGKILL: the broker dies at once, as in a crash. Its log dir stays for a restart. */
  kill(): Promise<void>;
  /** A clean shutdown; the log dir stays for a restart. */
  stop(): Promise<void>;
  /** Stops the node and removes its log dir. */
  close(): Promise<void>;
}

type Log = (line: string) => void;

export declare function kafkaCacheDir(version?: string): string;
export declare function resolveKafka(options?: { version?: string; timeoutMs?: number; log?: Log }): string;
export declare function freePort(): Promise<number>;
export declare function startKafkaBroker(options?: {
  lib?: string;
  /** Server properties to add or override. */
  config?: Record<string, string>;
  startTimeoutMs?: number;
  log?: Log;
}): Promise<KafkaBroker>;
