/**
 * OWASP API Security Top 10 2023 — API4 Unrestricted Resource Consumption.
 *
 * Every way a caller could make one request cost the server a lot is bounded: page size (clamped to 100), JSON body
 * size (413 over MAX_BODY_KB), nesting depth of JSON, upload size (413 over MAX_UPLOAD_MB) and type (content, not
 * name), offline batches (500 scans), socket messages (64 KB), and CSV exports, which hold a database connection for
 * as long as the client reads: only a few run at once per instance, the others get 429 with Retry-After, so slow
 * downloads cannot take the pool that door scans need. Rate limits have their own suite (test/rate-limits).
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_CONCURRENT_EXPORTS } from '../../src/database/copy-csv';
import { expectError, expectValidation } from '../helpers/assertions';
import { bearer, countRows, createBulkParticipants, createRoom, createWorld, type World } from '../helpers/factories';
import { countBy, fire, tally } from '../helpers/requests';
import { closeAllClients, connect, disconnection, request } from '../helpers/sockets';
import { bootTestApp, type TestApp } from '../helpers/test-app';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

describe('API4 unrestricted resource consumption', () => {
  let t: TestApp;
  let w: World;
  let uploadDir: string;
  before(async () => {
    uploadDir = mkdtempSync(join(tmpdir(), 'makeplus-security-uploads-'));
    t = await bootTestApp({ UPLOAD_DIR: uploadDir, MAX_UPLOAD_MB: '1' });
    w = await createWorld(t);
  });
  after(async () => {
    closeAllClients();
    await t.close();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  it('page_size is clamped to 100 on every list, whatever is asked', async () => {
    await t.db.query(
      `INSERT INTO rooms (event_id, name, capacity) SELECT $1, 'Bulk room ' || g, 10 FROM generate_series(1, 120) g`,
      [w.event.id],
    );
    for (const page_size of ['101', '1000', '2147483647', '1e9']) {
      const res = await t.http.get('/api/rooms').query({ page_size }).set(bearer(w.tokens.participant));
      assert.equal(res.status, 200, `page_size=${page_size}: ${res.status}`);
      assert.equal(res.body.count, 120);
      assert.equal(res.body.results.length, 100, `page_size=${page_size}`);
    }
  });

  it('a JSON body over MAX_BODY_KB is 413 PAYLOAD_TOO_LARGE on an authenticated write, nothing changed', async () => {
    const res = await t.http
      .patch(`/api/events/${w.event.id}`)
      .set(bearer(w.tokens.organisateur))
      .send({ description: 'x'.repeat(1100 * 1024) });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    assert.equal(await countRows(t, 'events', 'id = $1 AND description = $2', [w.event.id, '']), 1);
  });

  it('JSON nested deeper than 32 levels is a 400 before any handler', async () => {
    const deep = `{"qr_data":"x","direction":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const room = await createRoom(t, w.event.id);
    const res = await t.http
      .post(`/api/rooms/${room}/verify_access`)
      .set(bearer(w.tokens.controlleur_des_badges))
      .set('content-type', 'application/json')
      .send(deep);
    expectError(res, 400, 'BAD_REQUEST');
    assert.equal(await countRows(t, 'room_access_logs', 'room_id = $1', [room]), 0);
  });

  describe('uploads', () => {
    const upload = (body: Buffer, filename: string, type: string) =>
      t.http
        .put(`/api/events/${w.event.id}/files/programme`)
        .set(bearer(w.tokens.organisateur))
        .attach('file', body, { filename, contentType: type });

    it('over MAX_UPLOAD_MB: 413 and nothing stored; the type is judged by content, not name', async () => {
      const big = Buffer.concat([PDF, Buffer.alloc(1024 * 1024 + 1, 0x20)]);
      expectError(await upload(big, 'big.pdf', 'application/pdf'), 413, 'PAYLOAD_TOO_LARGE');
      expectValidation(await upload(PNG, 'programme.pdf', 'application/pdf'), 'file');
      expectValidation(await upload(Buffer.from('<html><script>x</script>'), 'p.pdf', 'application/pdf'), 'file');
      assert.equal(await countRows(t, 'events', 'id = $1 AND programme_file IS NULL', [w.event.id]), 1);
      assert.equal((await upload(PDF, 'ok.pdf', 'application/pdf')).status, 200, 'control: a small PDF is taken');
    });

    it('one file per request: a second file part, even over the size limit, is never stored', async () => {
      const before = readdirSync(join(uploadDir, 'events', w.event.id)).length;
      const res = await t.http
        .put(`/api/events/${w.event.id}/files/guide`)
        .set(bearer(w.tokens.organisateur))
        .attach('file', PDF, { filename: 'a.pdf', contentType: 'application/pdf' })
        .attach('file', Buffer.concat([PDF, Buffer.alloc(3 * 1024 * 1024, 0x20)]), {
          filename: 'b.pdf',
          contentType: 'application/pdf',
        });
      assert.ok(res.status < 500, `${res.status}`);
      assert.ok(readdirSync(join(uploadDir, 'events', w.event.id)).length <= before + 1, 'at most one file stored');
    });
  });

  it('an offline batch of more than 500 scans is a 400, nothing stored', async () => {
    const room = await createRoom(t, w.event.id);
    const scans = Array.from({ length: 501 }, (_, i) => ({
      nonce: `n-${i}`,
      qr_data: 'x',
      room_id: room,
      direction: 'in',
      scanned_at: new Date().toISOString(),
      local_decision: 'granted',
    }));
    const res = await t.http
      .post('/api/scans/sync')
      .set(bearer(w.tokens.controlleur_des_badges))
      .send({ device_id: 'tablet-1', scans });
    expectValidation(res, 'scans');
    assert.equal(await countRows(t, 'room_access_logs', 'room_id = $1', [room]), 0);
  });

  it('a socket message above 64 KB closes that connection; others go on', async () => {
    const attacker = await connect(t, w.tokens.participant);
    const bystander = await connect(t, w.tokens.exposant);
    const gone = disconnection(attacker, 3000);
    attacker.emit('joinSession', { session_id: 'x'.repeat(65 * 1024) });
    assert.match(await gone, /^transport (close|error)$/);
    const ack = await request(bystander, 'joinSession', { session_id: 'not-a-uuid' });
    assert.equal(ack.ok, false, 'the bystander is still answered');
    assert.equal(bystander.connected, true);
  });

  describe('CSV exports', () => {
    let port: number;
    before(async () => {
      port = (t.app.getHttpServer().address() as AddressInfo).port;
      // 3,000 rows with long notes: several MB, far more than the socket buffers hold, so a reader that does not
      // read keeps its export (and its database connection) open.
      const ids = await createBulkParticipants(t, w.event.id, 3000);
      await t.db.query(
        `INSERT INTO attendances (event_id, participant_id, method, attended_at, note)
         SELECT $1, unnest($2::uuid[]), 'manual', now(), repeat('n', 2000)`,
        [w.event.id, ids],
      );
    });

    /** An export whose reader stops after the headers, as a slow or malicious client would. */
    function stalledExport(): Promise<{ status: number; headers: IncomingMessage['headers']; req: ClientRequest }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: `/api/events/${w.event.id}/attendance.csv`,
            headers: bearer(w.tokens.organisateur),
          },
          (res) => {
            res.pause();
            res.on('error', () => undefined);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, req });
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
        req.end();
      });
    }

    it(`at most ${MAX_CONCURRENT_EXPORTS} run at once; the others are 429 with Retry-After; the API keeps answering`, async () => {
      const N = 25; // more than the pool's 20 connections
      const exports = await Promise.all(Array.from({ length: N }, stalledExport));
      try {
        const statuses = countBy(exports.map((e) => e.status));
        assert.deepEqual(statuses, { 200: MAX_CONCURRENT_EXPORTS, 429: N - MAX_CONCURRENT_EXPORTS });
        for (const e of exports.filter((x) => x.status === 429)) {
          assert.ok(Number(e.headers['retry-after']) > 0, 'Retry-After');
        }
        // Meanwhile the rest of the API has its connections: 30 parallel reads answer at once.
        const started = Date.now();
        const reads = await Promise.all(
          Array.from({ length: 30 }, () => fire(t.http.get('/api/rooms').set(bearer(w.tokens.participant)))),
        );
        // With the pool taken they would wait for a connection and fail with 503 after its 5 s timeout.
        assert.deepEqual(tally(reads), { 200: 30 });
        assert.ok(Date.now() - started < 4500, `reads took ${Date.now() - started} ms`);
        const refused = await t.http.get(`/api/events/${w.event.id}/attendance.csv`).set(bearer(w.tokens.organisateur));
        expectError(refused, 429, 'RATE_LIMITED');
      } finally {
        for (const e of exports) e.req.destroy();
      }
      // The abandoned exports give their slots back: a new one is served whole.
      const deadline = Date.now() + 5000;
      let again = await t.http.get(`/api/events/${w.event.id}/attendance.csv`).set(bearer(w.tokens.organisateur));
      while (again.status === 429 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        again = await t.http.get(`/api/events/${w.event.id}/attendance.csv`).set(bearer(w.tokens.organisateur));
      }
      assert.equal(again.status, 200);
      assert.equal(again.text.trim().split('\n').length, 3001);
    });
  });
});
