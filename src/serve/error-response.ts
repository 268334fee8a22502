import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOG, isLarderError, type ErrorCode } from '../errors.ts';

/** What a client sees of an error: never a stack trace or an internal message. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string;
  readonly [detail: string]: unknown;
}

export interface PublicError {
  readonly status: number;
  readonly body: ErrorBody;
  /** True when the error is a server fault that must be logged (the client sees a generic text). */
  readonly internal: boolean;
}

/**
 * Maps any thrown value to its public form. LarderErrors keep their code, message and details.
 * Framework errors that carry a 4xx status (bad JSON, body too large, ...) keep their message
 * under a Larder code. Everything else is an internal error whose message is not shown.
 */
export function toPublicError(err: unknown): PublicError {
  if (isLarderError(err)) {
    return { status: err.status, body: err.toJSON() as unknown as ErrorBody, internal: err.status >= 500 };
  }
  const status = (err as Partial<FastifyError> | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 413
        ? 'LARDER_ERR_REQUEST_TOO_LARGE'
        : status === 404
          ? 'LARDER_ERR_NOT_FOUND'
          : 'LARDER_ERR_BAD_REQUEST';
    const message = err instanceof Error ? err.message : 'bad request';
    return { status, body: { code, message, hint: ERROR_CATALOG[code].hint }, internal: false };
  }
  return { status: 500, body: internalBody(), internal: true };
}

export function internalBody(): ErrorBody {
  return {
    code: 'LARDER_ERR_INTERNAL',
    message: 'Internal error',
    hint: ERROR_CATALOG.LARDER_ERR_INTERNAL.hint,
  };
}

/** Fastify error handler for the REST routes: JSON `{code, message, hint}` with the catalog status. */
export function restErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const pub = toPublicError(err);
  if (pub.internal) request.log.error({ err }, 'request failed');
  void reply.code(pub.status).send(pub.body);
}

/** Unknown routes answer in the same JSON shape as every other error. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send({
    code: 'LARDER_ERR_NOT_FOUND',
    message: `no route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}`,
    hint: ERROR_CATALOG.LARDER_ERR_NOT_FOUND.hint,
  } satisfies ErrorBody);
}
