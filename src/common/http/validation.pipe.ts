import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { validationFailed, type FieldErrors } from '../errors/app.exception';
import { cacheValidationMetadata } from './validation-metadata.cache';

function collect(errors: ValidationError[], prefix: string, out: FieldErrors): FieldErrors {
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    for (const [rule, message] of Object.entries(error.constraints ?? {})) {
      const text = rule === 'whitelistValidation' ? 'This field is not allowed (unknown or read-only)' : message;
      (out[field] ??= []).push(text);
    }
    if (error.children?.length) collect(error.children, field, out);
  }
  return out;
}

/** The one validation pipe of the app (also used by tests): unknown and read-only fields are a 400, not ignored. */
export function createValidationPipe(): ValidationPipe {
  cacheValidationMetadata();
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationFailed(collect(errors, '', {})),
  });
}
