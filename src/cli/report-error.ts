import { isLarderError } from '../errors.ts';

/** Prints why a command failed, on stderr: a LarderError's code, message and hint, else the stack. */
export function reportError(err: unknown): void {
  if (isLarderError(err)) {
    process.stderr.write(`error ${err.code}: ${err.message}\n  hint: ${err.hint}\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
}
