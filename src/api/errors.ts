import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The one error shape of the API (docs/api.md):
 * `{"error": {"status", "code", "message", "parameter", "request_id"}}`.
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

export const badRequest = (parameter: string | null, message: string, code = 'invalid_parameter') =>
  new ApiError(400, code, message, parameter);
export const unauthorized = (message: string) =>
  new ApiError(401, 'unauthorized', message, null, { 'www-authenticate': 'Bearer' });
export const forbidden = (code: string, message: string) => new ApiError(403, code, message);
export const notFound = (what: string, parameter: string | null = null) =>
  new ApiError(404, 'not_found', `${what} not found`, parameter);
export const conflict = (code: string, message: string, parameter: string | null = null) =>
  new ApiError(409, code, message, parameter);

export function errorBody(req: FastifyRequest, status: number, code: string, message: string, parameter: string | null) {
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

export function errorHandler(err: FastifyError | ApiError, req: FastifyRequest, reply: FastifyReply) {
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
    const code = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'payload_too_large' : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : 'bad_request';
    return reply.code(status).send(errorBody(req, status, code, err.message, null));
  }
  req.log.error({ err }, 'unhandled error');
  return reply.code(500).send(errorBody(req, 500, 'internal_error', 'internal server error', null));
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send(errorBody(req, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`, null));
}
