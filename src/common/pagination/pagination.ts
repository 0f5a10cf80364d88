import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';
import { MaxLength } from '../http/validators';
import type { FastifyRequest } from 'fastify';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
/** Keeps OFFSET a safe integer within PostgreSQL's bigint: `?page=1e20` is a 400, not a database error. */
export const MAX_PAGE = 1_000_000_000;

/**
 * `?page=&page_size=` (clamped to 100). `search` (`SearchParam`) and `ordering` (an `@IsIn` of `orderingValues`) are
 * declared by the lists that apply them: on any other list they are unknown fields, a 400, never silently ignored.
 */
export class ListQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Transform(({ value }: { value: unknown }) => (typeof value === 'number' ? Math.min(value, MAX_PAGE_SIZE) : value), {
    toClassOnly: true,
  })
  page_size?: number;
}

/** `?search=`: free text, on the lists that apply it. */
export const SearchParam = () =>
  applyDecorators(ApiPropertyOptional({ description: 'Free-text search' }), IsOptional(), IsString(), MaxLength(200));

/** A list of event-owned objects: also accepts `?event=`, which must name the token's event (`assertEventFilter`). */
export class ScopedListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Must name the event of the token' })
  @IsOptional()
  @IsUUID()
  event?: string;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface PageWindow {
  page: number;
  pageSize: number;
  offset: number;
}

export function pageWindow(query: Pick<ListQueryDto, 'page' | 'page_size'>): PageWindow {
  const page = query.page ?? 1;
  const pageSize = Math.min(query.page_size ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  return { page, pageSize, offset: (page - 1) * pageSize };
}

function pageUrl(request: FastifyRequest, page: number): string {
  // request.host and request.protocol honour X-Forwarded-* only when TRUST_PROXY is on: a client cannot put another
  // host into the links.
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('page', String(page));
  return url.toString();
}

/** Builds the `{count, next, previous, results}` envelope with absolute next/previous links. */
export function toPage<T>(request: FastifyRequest, window: PageWindow, count: number, results: T[]): Page<T> {
  const hasNext = window.offset + results.length < count;
  const hasPrevious = window.page > 1 && count > 0;
  return {
    count,
    next: hasNext ? pageUrl(request, window.page + 1) : null,
    previous: hasPrevious ? pageUrl(request, Math.min(window.page - 1, Math.ceil(count / window.pageSize))) : null,
    results,
  };
}

/**
 * Resolves `ordering` against a whitelist of API field names mapped to SQL expressions; unknown fields are a 400
 * through the DTO's `@IsIn` in each list, so here a miss falls back to the default.
 */
export function orderingOf<K extends string>(
  ordering: string | undefined,
  columns: Record<K, string>,
  fallback: [string, 'ASC' | 'DESC'],
): [string, 'ASC' | 'DESC'] {
  if (!ordering) return fallback;
  const desc = ordering.startsWith('-');
  const key = (desc ? ordering.slice(1) : ordering) as K;
  const column = columns[key];
  return column ? [column, desc ? 'DESC' : 'ASC'] : fallback;
}

/** Allowed `ordering` values for a list: each field ascending and descending. */
export function orderingValues(fields: string[]): string[] {
  return fields.flatMap((f) => [f, `-${f}`]);
}

/** Escapes `%`, `_` and `\\` so that user search text matches literally inside ILIKE. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * One page of a list query: the requested order with the row id as tie-break (so pages are stable), the count, and
 * the `{count, next, previous, results}` envelope. Every paginated list goes through here.
 */
export async function pageOf<E extends ObjectLiteral, T>(
  qb: SelectQueryBuilder<E>,
  [column, direction]: [string, 'ASC' | 'DESC'],
  query: Pick<ListQueryDto, 'page' | 'page_size'>,
  request: FastifyRequest,
  toResults: (rows: E[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  const window = pageWindow(query);
  const [rows, count] = await qb
    .orderBy(column, direction)
    .addOrderBy(`${qb.alias}.id`, 'ASC')
    .skip(window.offset)
    .take(window.pageSize)
    .getManyAndCount();
  return toPage(request, window, count, await toResults(rows));
}
