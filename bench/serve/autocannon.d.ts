/** The part of autocannon's API the serving benchmark uses (the package ships no types). */
declare module 'autocannon' {
  interface Histogram {
    readonly average: number;
    readonly p50: number;
    readonly p99: number;
    readonly p99_9: number;
    /** Only on `requests`: every request answered. */
    readonly total: number;
  }
  interface Result {
    readonly requests: Histogram;
    readonly latency: Histogram;
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    overallRate?: number;
    requests?: Record<string, unknown>[];
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
