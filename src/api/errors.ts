import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The one error shape of the API (docs/api.md):
 * `{"error": {"status", "code", "message", "parameter", "request_id"}}`.
 * Every refusal is one of these classes; the error handler is the only writer of the shape.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly parameter: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class BadRequestError extends ApiError {
  constructor(parameter: string | null, message: string, code = 'invalid_parameter') {
    super(400, code, message, parameter);
  }
}
export class UnauthorizedError extends ApiError {
  constructor(message: string) {
    super(401, 'unauthorized', message, null, { 'www-authenticate': 'Bearer' });
  }
}
export class ForbiddenError extends ApiError {
  constructor(code: string, message: string) {
    super(403, code, message);
  }
}
export class NotFoundError extends ApiError {
  constructor(what: string, parameter: string | null = null) {
    super(404, 'not_found', `${what} not found`, parameter);
  }
}
export class ConflictError extends ApiError {
  constructor(code: string, message: string, parameter: string | null = null) {
    super(409, code, message, parameter);
  }
}
export class RateLimitedError extends ApiError {
  constructor(message: string, retryAfterSec: number) {
    super(429, 'rate_limited', message, null, { 'retry-after': String(Math.max(1, retryAfterSec)) });
  }
}

export class ServiceUnavailableError extends ApiError {
  constructor(code: string, message: string, retryAfterSec = 1) {
    super(503, code, message, null, { 'retry-after': String(retryAfterSec) });
  }
}

export const badRequest = (parameter: string | null, message: string, code = 'invalid_parameter') =>
  new BadRequestError(parameter, message, code);
export const unauthorized = (message: string) => new UnauthorizedError(message);
export const forbidden = (code: string, message: string) => new ForbiddenError(code, message);
export const notFound = (what: string, parameter: string | null = null) => new NotFoundError(what, parameter);
export const conflict = (code: string, message: string, parameter: string | null = null) =>
  new ConflictError(code, message, parameter);

export function errorBody(req: FastifyRequest | { id: unknown }, status: number, code: string, message: string, parameter: string | null) {
  return { error: { status, code, message, parameter, request_id: String(req.id) } };
}

/** Where a validation error points: `body/name` → `name`, `querystring/from` → `from`. */
function parameterOf(err: FastifyError): string | null {
  const v = err.validation?.[0];
  if (!v) return null;
  const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
  const fromPath = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return missing.missingProperty ?? missing.additionalProperty ?? (fromPath || null);
}

// Fastify's own refusals (FST_ERR_*), named in the project's codes; any other 4xx is bad_request.
const FRAMEWORK_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_BAD_URL: 'invalid_path',
  FST_ERR_MAX_PARAM_LENGTH: 'invalid_path',
};

export function errorHandler(err: FastifyError | ApiError, req: FastifyRequest, reply: FastifyReply) {
  // Set here too: router refusals (frameworkErrors) are answered without the onSend hooks.
  reply.header('x-request-id', req.id);
  if (err instanceof ApiError) {
    if (err.status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(err.status).headers(err.headers).send(errorBody(req, err.status, err.code, err.message, err.parameter));
  }
  if (err.validation) {
    const parameter = parameterOf(err);
    const v = err.validation[0];
    const detail = (v?.params as { additionalProperty?: string })?.additionalProperty
      ? `unknown ${err.validationContext === 'querystring' ? 'query parameter' : 'field'} "${parameter}"`
      : `${parameter ?? err.validationContext} ${v?.message ?? 'is invalid'}`;
    return reply.code(400).send(errorBody(req, 400, 'invalid_parameter', detail, parameter));
  }
  const status = err.statusCode ?? 500;
  if (status === 429) {
    return reply.code(429).send(errorBody(req, 429, 'rate_limited', err.message, null));
  }
  if (status >= 400 && status < 500) {
    const code = FRAMEWORK_CODES[err.code] ?? 'bad_request';
    // Fastify's messages for bad URLs quote the URL, which may carry a secret: say it generically.
    const message = code === 'invalid_path' ? 'the request path is not valid (malformed percent-encoding or too long)' : err.message;
    return reply.code(status).send(errorBody(req, status, code, message, null));
  }
  req.log.error({ err }, 'unhandled error');
  return reply.code(500).send(errorBody(req, 500, 'internal_error', 'internal server error', null));
}

/** Fastify's router refusals (bad URL encoding, over-long parameters) take the same road as every other error. */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  return errorHandler(err, req, reply);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send(errorBody(req, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`, null));
}

/**
 * Errors Node's HTTP parser raises before there is a request (headers too large, malformed
 * request line, headers never finished in time): answered in the error shape, then the socket closes.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request was not received in time']
        : [400, 'bad_request', 'the request could not be parsed'];
  const body = JSON.stringify(errorBody({ id: `req-${randomUUID()}` }, status, code, message, null));
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
