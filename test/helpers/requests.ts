import type { Response, Test } from 'supertest';

/** Starts a supertest request now (they are lazy until awaited), for firing many at once. */
export const fire = (test: Test): Promise<Response> => test.then((res) => res);

/** How many of each value: `{granted: 10, denied: 190}`. */
export const countBy = (values: (string | number)[]): Record<string, number> =>
  values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});

/** How many responses of each HTTP status: `{201: 1, 409: 49}`. */
export const tally = (responses: Response[]): Record<number, number> => countBy(responses.map((r) => r.status));

/** supertest parser for a download (`.buffer(true).parse(binary)`): the body as raw bytes. */
export function binary(res: Response, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}
