import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLarderError, type LarderError } from '../errors.ts';

/**
 * Sends a LarderError from a hook, in the shape the client expects: a GraphQL response
 * (`{data: null, errors: [{message, extensions: {code, hint}}]}`) on `/graphql`, and the REST error
 * body `{code, message, hint, ...details}` (as `error-response.ts` renders it) everywhere else.
 * Never a stack trace.
 */
export function sendLarderError(
  request: Pick<FastifyRequest, 'routeOptions'>,
  reply: FastifyReply,
  err: LarderError,
): void {
  void reply.code(err.status).header('content-type', 'application/json; charset=utf-8');
  // The route the router matched, not the URL text (`/%67raphql` is `/graphql` too).
  if (request.routeOptions.url === '/graphql') {
    void reply.send(
      JSON.stringify({
        data: null,
        errors: [{ message: err.message, extensions: { ...err.details, code: err.code, hint: err.hint } }],
      }),
    );
  } else {
    void reply.send(JSON.stringify(err.toJSON()));
  }
}

/**
 * Ends a callback-style hook that failed with `err`: a LarderError is answered at once
 * (`sendLarderError`), anything else goes on to Fastify's error handler.
 */
export function failHook(
  request: Pick<FastifyRequest, 'routeOptions'>,
  reply: FastifyReply,
  done: (err?: Error) => void,
  err: unknown,
): void {
  if (isLarderError(err)) sendLarderError(request, reply, err);
  else done(err as Error);
}
