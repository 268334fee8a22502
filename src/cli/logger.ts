import pino, { type Logger } from 'pino';

/** JSON logs on stdout; `LARDER_LOG_LEVEL` picks the level (default info). */
export function createLogger(level = process.env.LARDER_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'larder' } });
}
