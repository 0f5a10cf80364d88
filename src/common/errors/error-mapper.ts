import { HttpException, HttpStatus } from '@nestjs/common';
import { AppException, ErrorCode, type FieldErrors } from './app.exception';
import { constraintViolation, isDatabaseUnavailable } from './database-errors';
import type { ErrorBody } from './error-body';

export interface MappedError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** True for errors that are the server's fault and must be logged with their stack. */
  unexpected: boolean;
  /** True when the database could not be reached or answer in time (logged as an outage, without a stack). */
  databaseUnavailable: boolean;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: ErrorCode.BAD_REQUEST,
  401: ErrorCode.AUTH_REQUIRED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  405: ErrorCode.METHOD_NOT_ALLOWED,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.UNAVAILABLE,
};

/** Errors raised by Fastify itself before a handler runs (body parsing, limits). */
const FASTIFY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, ErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    'Unsupported content type: send application/json',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, ErrorCode.BAD_REQUEST, 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, ErrorCode.BAD_REQUEST, 'Body is empty but Content-Type is application/json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, ErrorCode.BAD_REQUEST, 'Malformed JSON body'],
  FST_ERR_CTP_MALFORMED_CONTENT_TYPE: [415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Malformed Content-Type header'],
  FST_ERR_BAD_URL: [400, ErrorCode.BAD_REQUEST, 'Malformed URL'],
  FST_ERR_MAX_PARAM_LENGTH: [400, ErrorCode.BAD_REQUEST, 'A path parameter is too long'],
};

/**
 * The Fastify code of an error, also when Nest has wrapped it: Nest's error handler (installed at init, over any
 * other) turns Fastify's 4xx errors into an HttpException whose `cause` is the original.
 */
function fastifyErrorOf(error: unknown): [number, string, string] | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FASTIFY_ERRORS[code]) return FASTIFY_ERRORS[code];
  if (error instanceof HttpException && !(error instanceof AppException) && error.cause !== error) {
    return fastifyErrorOf(error.cause);
  }
  return undefined;
}

function fromHttpException(
  e: HttpException,
): [number, string, string, FieldErrors | undefined, Record<string, string>] {
  const status = e.getStatus();
  if (e instanceof AppException) return [status, e.code, e.message, e.errors, e.headers ?? {}];
  const response = e.getResponse();
  let detail = e.message;
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const m = (response as { message: unknown }).message;
    detail = Array.isArray(m) ? m.join('; ') : String(m);
  }
  if (status === 404 && /^Cannot [A-Z]+ /.test(detail)) detail = 'No such route';
  return [
    status,
    CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.BAD_REQUEST),
    detail,
    undefined,
    {},
  ];
}

/** Turns anything thrown while serving a request into the documented error body. Never leaks a stack. */
export function mapError(error: unknown, requestId: string): MappedError {
  let status = 500;
  let code: string = ErrorCode.INTERNAL_ERROR;
  let detail = 'Internal server error';
  let errors: FieldErrors | undefined;
  let headers: Record<string, string> = {};
  let unexpected = false;
  let databaseUnavailable = false;

  const fastifyError = fastifyErrorOf(error);
  const violation = constraintViolation(error);
  if (fastifyError) {
    [status, code, detail] = fastifyError;
  } else if (error instanceof HttpException) {
    [status, code, detail, errors, headers] = fromHttpException(error);
    // Our own 503 is a refusal we chose (shutting down, overloaded, Redis away), not a fault.
    unexpected = status >= 500 && !(error instanceof AppException && status === 503);
  } else if (isDatabaseUnavailable(error)) {
    [status, code, detail] = [503, ErrorCode.UNAVAILABLE, 'Database unavailable, retry shortly'];
    headers = { 'Retry-After': '5' };
    databaseUnavailable = true;
  } else if (violation?.kind === 'unique' || violation?.kind === 'exclusion') {
    [status, code, detail] = [409, ErrorCode.CONFLICT, 'A conflicting record already exists'];
  } else if (violation?.kind === 'foreign_key') {
    [status, code, detail] = [409, ErrorCode.CONFLICT, 'A referenced record does not exist or is still referenced'];
  } else if (
    violation?.kind === 'invalid_text' ||
    violation?.kind === 'data' ||
    violation?.kind === 'check' ||
    violation?.kind === 'not_null'
  ) {
    [status, code, detail] = [400, ErrorCode.BAD_REQUEST, 'A value is not acceptable'];
  } else if (typeof (error as { statusCode?: unknown } | null)?.statusCode === 'number') {
    // Other framework errors that carry an HTTP status (e.g. Fastify's own 4xx).
    status = (error as { statusCode: number }).statusCode;
    code = CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.BAD_REQUEST);
    detail = status >= 500 ? 'Internal server error' : String((error as Error).message ?? 'Bad request');
    unexpected = status >= 500;
  } else {
    unexpected = true;
  }
  if (status === 503 && !headers['Retry-After']) headers['Retry-After'] = '5';
  const body: ErrorBody = { status_code: status, code, detail, request_id: requestId };
  if (errors) body.errors = errors;
  if (error instanceof AppException && error.extra) Object.assign(body, error.extra);
  return { status, body, headers, unexpected, databaseUnavailable };
}

export { HttpStatus };
