import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { to as copyTo, type CopyToStreamQuery } from 'pg-copy-streams';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppException, ErrorCode } from '../common/errors/app.exception';

export { escapeLiteral as sqlLiteral } from 'pg';

/** UTF-8 byte order mark: without it spreadsheet programs misread accented and Arabic names. */
const BOM = Buffer.from('\uFEFF', 'utf8');

/** An export may take longer than the pool's per-query timeout when its reader is slow; it still has a limit. */
const EXPORT_TIMEOUT_MS = 10 * 60_000;

/**
 * Exports running at once per instance (per data source). Each holds a pooled connection for as long as its client
 * reads, so without a bound a few slow downloads would take the whole pool (20) and every other request, door scans
 * included, would wait for a connection and fail with 503.
 */
export const MAX_CONCURRENT_EXPORTS = 4;
const running = new WeakMap<DataSource, number>();

/**
 * A text cell that a spreadsheet would read as a formula (it starts with =, +, -, @, tab or CR) gets a leading single
 * quote ("CSV injection"). `expr` is an SQL expression; NULL stays NULL (an empty cell).
 */
export function csvText(expr: string): string {
  return `CASE WHEN left(${expr}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || ${expr} ELSE ${expr} END`;
}

/** A timestamptz cell written as the API writes datetimes: ISO 8601 in UTC with `Z`. */
export function csvTime(expr: string): string {
  return `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * Streams the rows of `select` as CSV, UTF-8 (with a BOM unless told otherwise) and a header row of its column names: PostgreSQL's
 * `COPY ... TO STDOUT` writes and quotes it, and the bytes go to the client as they come, never the whole file in
 * memory. COPY takes no bind parameters: values are inlined with `sqlLiteral`. The connection is taken before
 * anything is sent (an unreachable database is still a 503) and held until the copy ends; an export abandoned midway
 * (the client went away) closes its connection rather than returning it to the pool in the middle of a COPY.
 */
export async function copyCsv(
  dataSource: DataSource,
  select: string,
  { bom = true }: { bom?: boolean } = {},
): Promise<Readable> {
  const count = running.get(dataSource) ?? 0;
  if (count >= MAX_CONCURRENT_EXPORTS) {
    throw new AppException(429, ErrorCode.RATE_LIMITED, 'Too many exports are running; retry shortly', undefined, {
      'Retry-After': '5',
    });
  }
  running.set(dataSource, count + 1);
  const done = () => running.set(dataSource, (running.get(dataSource) ?? 1) - 1);
  let client: PoolClient;
  let release: (error?: Error) => void;
  try {
    [client, release] = (await (dataSource.driver as PostgresDriver).obtainMasterConnection()) as [
      PoolClient,
      (error?: Error) => void,
    ];
  } catch (error) {
    done();
    throw error;
  }
  // The driver arms a read timer for every query (the pool's query_timeout, too short for a download) and clears it
  // only when the query calls back, which a COPY stream never does: it gets a limit of its own, called back below.
  const copy: CopyToStreamQuery & { query_timeout?: number; callback?: () => void } = copyTo(
    `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')`,
  );
  copy.query_timeout = EXPORT_TIMEOUT_MS;
  // The driver may still report on the query after the pipeline has settled (when its connection is closed).
  copy.on('error', () => undefined);
  const output = new PassThrough();
  if (bom) output.write(BOM);
  pipeline(client.query(copy), output, (error) => {
    copy.callback?.();
    release(error ?? undefined);
    done();
  });
  return output;
}
