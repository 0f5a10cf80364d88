import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsDate, isISO8601, ValidateIf } from 'class-validator';

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
