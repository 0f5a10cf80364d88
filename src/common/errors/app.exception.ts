import { HttpException, HttpStatus } from '@nestjs/common';

export type FieldErrors = Record<string, string[]>;

/** Codes every module may use; modules add their own specific 409 codes in `<feature>.errors.ts`. */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  BAD_REQUEST: 'BAD_REQUEST',
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  TOKEN_INVALID: 'TOKEN_INVALID',
  MEMBERSHIP_REVOKED: 'MEMBERSHIP_REVOKED',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  FORBIDDEN: 'FORBIDDEN',
  EVENT_REQUIRED: 'EVENT_REQUIRED',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;

/** An error with the stable `code` of API.md; the exception filter turns it into the documented body. */
export class AppException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    detail: string,
    readonly errors?: FieldErrors,
    readonly headers?: Record<string, string>,
    /** Figures that come with the code, added to the body (e.g. `seconds_until_start`). */
    readonly extra?: Record<string, number>,
  ) {
    super(detail, status);
  }
}

export const notFound = (what: string): AppException =>
  new AppException(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, `${what} not found`);

export const forbidden = (detail = 'Your role does not allow this action'): AppException =>
  new AppException(HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN, detail);

export const conflict = (code: string, detail: string): AppException =>
  new AppException(HttpStatus.CONFLICT, code, detail);

export const unauthorized = (code: string, detail: string): AppException =>
  new AppException(HttpStatus.UNAUTHORIZED, code, detail);

export const validationFailed = (errors: FieldErrors, detail = 'Invalid input'): AppException =>
  new AppException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, detail, errors);
