import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { buildMessage, IsDate, isISO8601, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';

/** Date and time with `Z` or an explicit offset: without one the instant would depend on the server's zone. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

function toDateOrKeep({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value)) return value;
  if (!isISO8601(value, { strict: true, strictSeparator: true })) return value;
  const date = new Date(value);
  // Years 0001-9999 in UTC: `9999-12-31T23:59:59-14:00` is year 10000 there, which PostgreSQL cannot read back.
  const year = date.getUTCFullYear();
  return Number.isNaN(date.getTime()) || year < 1 || year > 9999 ? value : date;
}

/**
 * An ISO 8601 datetime string, turned into a Date. Numbers, booleans and free-form strings stay as they are and fail
 * `IsDate` (a plain `@Type(() => Date)` would read `0` or `true` as 1970).
 */
export const IsoDateTime = () =>
  applyDecorators(
    Transform(toDateOrKeep, { toClassOnly: true }),
    IsDate({ message: '$property must be an ISO 8601 datetime with Z or an offset, in years 0001-9999 (UTC)' }),
  );

/**
 * Optional, but validated when present: `null` is refused for the columns that cannot hold it (`@IsOptional` would
 * let it through to a database error, or silently ignore it).
 */
export const IfPresent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** A `?flag=true|false` query parameter as a boolean; anything else stays a string and fails `@IsBoolean`. */
export const QueryBoolean = () =>
  Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value), {
    toClassOnly: true,
  });

/** Characters as PostgreSQL counts them in a varchar: code points. */
function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // a low surrogate that follows a high one is the second half of one code point
    if (unit >= 0xdc00 && unit <= 0xdfff && i > 0 && (text.charCodeAt(i - 1) & 0xfc00) === 0xd800) continue;
    n += 1;
  }
  return n;
}

/**
 * class-validator's MaxLength, counting as the varchar column will. Its own does not count variation selectors
 * (U+FE0E, U+FE0F): a name within its limit could be longer than the column, and the insert then failed with a 400
 * naming no field instead of VALIDATION_FAILED.
 */
export function MaxLength(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxLength',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && codePoints(value) <= max,
        defaultMessage: buildMessage(
          (each) => `${each}$property must be shorter than or equal to $constraint1 characters`,
          options,
        ),
      },
    },
    options,
  );
}

/** class-validator's Length, counting as the varchar column will (see MaxLength). */
export function Length(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const n = codePoints(value);
          return n >= min && n <= max;
        },
        // The bound that failed, as class-validator's own Length says it.
        defaultMessage: buildMessage(
          (each, args) =>
            typeof args?.value === 'string' && codePoints(args.value) < min
              ? `${each}$property must be longer than or equal to $constraint1 characters`
              : `${each}$property must be shorter than or equal to $constraint2 characters`,
          options,
        ),
      },
    },
    options,
  );
}
