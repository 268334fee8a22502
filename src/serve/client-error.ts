import type { Socket } from 'node:net';
import { ERROR_CATALOG, type ErrorCode } from '../errors.ts';

/**
 * Answers a request Node's HTTP parser refused before Fastify saw it (a request target that is
 * not a path, a malformed header, headers over the size limit, a request too slow to arrive), in
 * the same JSON shape as every other error, then closes the connection as Node does.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection is already gone; there is no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, ErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'LARDER_ERR_REQUEST_TIMEOUT', 'the request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'LARDER_ERR_HEADERS_TOO_LARGE', 'the request headers are larger than the server accepts']
        : [400, 'LARDER_ERR_BAD_REQUEST', 'the request is not valid HTTP (request line or headers)'];
  const body = JSON.stringify({ code, message, hint: ERROR_CATALOG[code].hint });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : status === 408 ? 'Request Timeout' : 'Request Header Fields Too Large'}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
