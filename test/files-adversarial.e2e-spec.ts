import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Test } from 'supertest';
import {
  assign,
  bearer,
  countRows,
  createMember,
  createUser,
  createWorld,
  openSession,
  uniq,
  type World,
} from './helpers/factories';
import { assertNoStack, expectError, expectValidation } from './helpers/assertions';
import { binary, fire } from './helpers/requests';
import { uploadFolder } from './helpers/uploads';
import { bootTestApp, type TestApp } from './helpers/test-app';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex'),
]);
const MB = 1024 * 1024;
const CSV_HEADER = 'email,first_name,last_name,role';
const TIMEOUT_MS = 15_000;
const csv = (lines: string[], eol = '\n'): Buffer => Buffer.from(lines.join(eol) + eol, 'utf8');

interface ImportResult {
  created: number;
  updated: number;
  errors: { line: number; detail: string }[];
}

describe('files, imports, exports: adversarial', () => {
  let t: TestApp;
  const uploads = uploadFolder('makeplus-files-adv-');
  const uploadDir = uploads.dir;
  const filesOf = uploads.filesOf;

  before(async () => {
    t = await bootTestApp({ UPLOAD_DIR: uploadDir, MAX_UPLOAD_MB: '1' });
  });
  after(async () => {
    await t.close();
    uploads.remove();
  });
  const uploadEventFile = (w: World, kind: string, body: Buffer, filename = 'f.pdf', token?: string): Test =>
    t.http
      .put(`/api/events/${w.event.id}/files/${kind}/`)
      .set(bearer(token ?? w.tokens.organisateur))
      .attach('file', body, { filename, contentType: 'application/octet-stream' })
      .timeout(TIMEOUT_MS);
  const uploadPlan = (w: World, participantId: string, body: Buffer): Test =>
    t.http
      .put(`/api/participants/${participantId}/plan/`)
      .set(bearer(w.tokens.organisateur))
      .attach('file', body, 'plan.pdf')
      .timeout(TIMEOUT_MS);
  const importCsv = (token: string, file: Buffer, name = 'people.csv'): Test =>
    t.http.post('/api/participants/import/').set(bearer(token)).attach('file', file, name).timeout(30_000);
  const eventColumns = async (eventId: string): Promise<Record<string, string | null>> => {
    const rows: Record<string, string | null>[] = await t.db.query(
      'SELECT logo_file, banner_file, programme_file, guide_file FROM events WHERE id = $1',
      [eventId],
    );
    return rows[0] ?? {};
  };
  /** Memberships, badges and users whose email has `tag`, for "nothing written" checks. */
  const peopleState = async (eventId: string, tag: string): Promise<number[]> => [
    await countRows(t, 'users', 'email LIKE $1', [`%${tag}%`]),
    await countRows(t, 'user_event_assignments', 'event_id = $1', [eventId]),
    await countRows(t, 'participants', 'event_id = $1', [eventId]),
  ];

  describe('uploads', () => {
    it('size boundary: exactly MAX_UPLOAD_MB is stored; one byte more is 413 and leaves the stored file alone', async () => {
      const w = await createWorld(t);
      const exact = Buffer.concat([PDF, Buffer.alloc(MB - PDF.length, 0x20)]);
      assert.equal(exact.length, MB);
      const ok = await uploadEventFile(w, 'programme', exact);
      assert.equal(ok.status, 200, ok.text);
      const stored = filesOf(w.event.id);
      assert.equal(stored.length, 1);
      const before = await eventColumns(w.event.id);

      const over = Buffer.concat([exact, Buffer.from(' ')]);
      expectError(await uploadEventFile(w, 'programme', over), 413, 'PAYLOAD_TOO_LARGE');
      assert.deepEqual(filesOf(w.event.id), stored, 'no partial file, the current one kept');
      assert.deepEqual(await eventColumns(w.event.id), before);
    });

    it('hostile client file names never shape the stored name nor leave the event folder', async () => {
      const w = await createWorld(t);
      const names = [
        '../../../../tmp/evil.pdf',
        '..\\..\\evil.pdf',
        '/etc/passwd',
        'a'.repeat(400) + '.pdf',
        'é"\';.pdf',
      ];
      for (const name of names) {
        const res = await uploadEventFile(w, 'guide', PDF, name);
        assert.equal(res.status, 200, `${name}: ${res.text}`);
        assertNoStack(res);
      }
      const files = filesOf(w.event.id);
      assert.equal(files.length, 1, `one guide after replacements: ${files.join()}`);
      assert.match(files[0] as string, /^guide-[0-9a-f]{16}\.pdf$/);
      assert.deepEqual(readdirSync(uploadDir), ['events'], 'nothing written beside the events folder');
      const got = await t.http
        .get(`/api/events/${w.event.id}/files/guide/`)
        .set(bearer(w.tokens.participant))
        .buffer(true)
        .parse(binary);
      assert.equal(got.status, 200);
      assert.equal(got.headers['content-disposition'], 'attachment; filename="guide.pdf"');
    });

    it('a field after the file part: the request is still answered and the file stored once', async () => {
      const w = await createWorld(t);
      const res = await t.http
        .put(`/api/events/${w.event.id}/files/logo/`)
        .set(bearer(w.tokens.organisateur))
        .attach('file', PNG, 'logo.png')
        .field('note', 'trailing field')
        .timeout(TIMEOUT_MS);
      assert.equal(res.status, 200, res.text);
      assert.equal(filesOf(w.event.id).length, 1);
    });

    it('too many form fields before the file: a 4xx in the error shape, nothing stored', async () => {
      const w = await createWorld(t);
      let req = t.http.put(`/api/events/${w.event.id}/files/logo/`).set(bearer(w.tokens.organisateur));
      for (let i = 0; i < 12; i += 1) req = req.field(`f${i}`, 'x');
      const res = await req.attach('file', PNG, 'logo.png').timeout(TIMEOUT_MS);
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${res.text}`);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assertNoStack(res);
      assert.deepEqual(filesOf(w.event.id), []);
      assert.equal((await eventColumns(w.event.id)).logo_file, null);
    });

    it('8 parallel replacements of one logo: all 200, exactly one file left, the one the event names', async () => {
      const w = await createWorld(t);
      const variants = Array.from({ length: 8 }, (_, i) => Buffer.concat([PNG, Buffer.from(`v${i}`)]));
      const responses = await Promise.all(variants.map((v) => fire(uploadEventFile(w, 'logo', v, 'logo.png'))));
      assert.deepEqual(
        responses.map((r) => r.status),
        variants.map(() => 200),
      );
      const files = filesOf(w.event.id);
      assert.equal(files.length, 1, `orphans left: ${files.join()}`);
      assert.equal((await eventColumns(w.event.id)).logo_file, files[0]);
      const got = await t.http
        .get(`/api/events/${w.event.id}/files/logo/`)
        .set(bearer(w.tokens.organisateur))
        .buffer(true)
        .parse(binary);
      assert.ok(
        variants.some((v) => Buffer.compare(v, got.body as Buffer) === 0),
        'one of the uploads is served',
      );
    });

    it('8 parallel plan uploads for one exhibitor: exactly one plan file left', async () => {
      const w = await createWorld(t);
      const expo = await createMember(t, w.event.id, 'exposant');
      const variants = Array.from({ length: 8 }, (_, i) => Buffer.concat([PDF, Buffer.from(`% v${i}\n`)]));
      const responses = await Promise.all(variants.map((v) => fire(uploadPlan(w, expo.participant.id, v))));
      assert.deepEqual(
        responses.map((r) => r.status),
        variants.map(() => 200),
      );
      const files = filesOf(w.event.id).filter((f) => f.startsWith('plan-'));
      assert.equal(files.length, 1, files.join());
      const rows: { plan_file: string }[] = await t.db.query('SELECT plan_file FROM participants WHERE id = $1', [
        expo.participant.id,
      ]);
      assert.equal(rows[0]?.plan_file, files[0]);
    });

    it('deleting an exhibitor’s badge (DELETE /participants/{id}) removes their plan file from disk', async () => {
      const w = await createWorld(t);
      const expo = await createMember(t, w.event.id, 'exposant');
      const keep = await createMember(t, w.event.id, 'exposant');
      assert.equal((await uploadPlan(w, expo.participant.id, PDF)).status, 200);
      assert.equal((await uploadPlan(w, keep.participant.id, PDF)).status, 200);
      assert.equal(filesOf(w.event.id).length, 2);
      await t.http.delete(`/api/participants/${expo.participant.id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      const keptRow: { plan_file: string }[] = await t.db.query('SELECT plan_file FROM participants WHERE id = $1', [
        keep.participant.id,
      ]);
      assert.deepEqual(filesOf(w.event.id), [keptRow[0]?.plan_file], 'only the remaining exhibitor’s plan is left');
    });

    it('removing an exhibitor’s membership (DELETE /user-assignments/{id}) removes their plan file from disk', async () => {
      const w = await createWorld(t);
      const expo = await createMember(t, w.event.id, 'exposant');
      assert.equal((await uploadPlan(w, expo.participant.id, PDF)).status, 200);
      assert.equal(filesOf(w.event.id).length, 1);
      const rows: { id: string }[] = await t.db.query(
        'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
        [w.event.id, expo.user.id],
      );
      const del = await t.http.delete(`/api/user-assignments/${rows[0]?.id}/`).set(bearer(w.tokens.organisateur));
      assert.equal(del.status, 204, del.text);
      assert.equal(await countRows(t, 'participants', 'id = $1', [expo.participant.id]), 0, 'badge cascaded');
      assert.deepEqual(filesOf(w.event.id), [], 'plan file of the removed badge is gone');
    });

    it('deleting the event removes every file of it (event files and plans), and only its own', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const expo = await createMember(t, w.event.id, 'exposant');
      assert.equal((await uploadEventFile(w, 'programme', PDF)).status, 200);
      assert.equal((await uploadEventFile(w, 'logo', PNG, 'l.png')).status, 200);
      assert.equal((await uploadPlan(w, expo.participant.id, PDF)).status, 200);
      assert.equal((await uploadEventFile(other, 'guide', PDF)).status, 200);
      assert.equal(filesOf(w.event.id).length, 3);
      const otherFiles = filesOf(other.event.id);
      const del = await t.http.delete(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur));
      assert.equal(del.status, 204, del.text);
      assert.equal(existsSync(join(uploadDir, 'events', w.event.id)), false);
      assert.deepEqual(filesOf(other.event.id), otherFiles);
    });
  });

  describe('CSV import', () => {
    it('the same email twice with case and space variants: one person, the later line reported with the first', async () => {
      const w = await createWorld(t);
      const tag = uniq('dup');
      const res = await importCsv(
        w.tokens.organisateur,
        csv([CSV_HEADER, `${tag}@Example.test,A,One,`, `  ${tag.toUpperCase()}@EXAMPLE.TEST ,B,Two,`]),
      );
      assert.equal(res.status, 200, res.text);
      const body = res.body as ImportResult;
      assert.equal(body.created, 1);
      assert.equal(body.updated, 0);
      assert.equal(body.errors.length, 1);
      assert.equal(body.errors[0]?.line, 3);
      assert.match(body.errors[0]?.detail ?? '', /line 2/);
      assert.equal(await countRows(t, 'users', 'lower(email) = $1', [`${tag}@example.test`]), 1);
      const names: { first_name: string }[] = await t.db.query('SELECT first_name FROM users WHERE email = $1', [
        `${tag}@example.test`,
      ]);
      assert.equal(names[0]?.first_name, 'A', 'the first line wins');
    });

    it('a semicolon-separated file (Excel, FR locale): 400 errors.file, nothing written', async () => {
      const w = await createWorld(t);
      const tag = uniq('semi');
      const before = await peopleState(w.event.id, tag);
      const res = await importCsv(
        w.tokens.organisateur,
        csv(['email;first_name;last_name;role', `${tag}@example.test;A;B;participant`], '\r\n'),
      );
      expectValidation(res, 'file');
      assert.deepEqual(await peopleState(w.event.id, tag), before);
    });

    it('a binary file (PNG) posted as the CSV: 400 errors.file, nothing written', async () => {
      const w = await createWorld(t);
      const before = await peopleState(w.event.id, 'never');
      expectValidation(await importCsv(w.tokens.organisateur, PNG, 'people.csv'), 'file');
      assert.deepEqual(await peopleState(w.event.id, 'never'), before);
    });

    it('header only: 200 with nothing created, nothing written', async () => {
      const w = await createWorld(t);
      const before = await peopleState(w.event.id, 'never');
      const res = await importCsv(w.tokens.organisateur, csv([CSV_HEADER]));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { created: 0, updated: 0, errors: [] });
      assert.deepEqual(await peopleState(w.event.id, 'never'), before);
    });

    it('a quoted newline in a name: kept in one cell; later line numbers still count physical lines', async () => {
      const w = await createWorld(t);
      const tag = uniq('nl');
      const res = await importCsv(
        w.tokens.organisateur,
        csv([
          CSV_HEADER,
          `${tag}-a@example.test,"Jean`,
          `Pierre",Dupont,`,
          'not-an-email,X,Y,',
          `${tag}-b@example.test,B,B,`,
        ]),
      );
      assert.equal(res.status, 200, res.text);
      const body = res.body as ImportResult;
      assert.equal(body.created, 2);
      assert.deepEqual(
        body.errors.map((e) => e.line),
        [4],
      );
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 2);
    });

    it('a NUL byte in a name: that line is reported, the good lines are kept (not a 500)', async () => {
      const w = await createWorld(t);
      const tag = uniq('nul');
      const res = await importCsv(
        w.tokens.organisateur,
        csv([
          CSV_HEADER,
          `${tag}-a@example.test,Good,One,`,
          `${tag}-b@example.test,Bad\u0000Name,Two,`,
          `${tag}-c@example.test,Good,Three,`,
        ]),
      );
      assert.equal(res.status, 200, `${res.status} ${res.text}`);
      const body = res.body as ImportResult;
      assert.equal(body.created, 2);
      assert.deepEqual(
        body.errors.map((e) => e.line),
        [3],
      );
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 2);
    });

    it('a member of another event imported here: added here; their role and names in the other event untouched', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const orgOfOther = other.users.organisateur;
      const res = await importCsv(w.tokens.organisateur, csv([CSV_HEADER, `${orgOfOther.email},Hijack,Name,exposant`]));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { created: 1, updated: 0, errors: [] });
      const roles: { event_id: string; role: string }[] = await t.db.query(
        'SELECT event_id, role FROM user_event_assignments WHERE user_id = $1',
        [orgOfOther.id],
      );
      const byEvent = new Map(roles.map((r) => [r.event_id, r.role]));
      assert.equal(byEvent.get(other.event.id), 'organisateur');
      assert.equal(byEvent.get(w.event.id), 'exposant');
      const u: { first_name: string }[] = await t.db.query('SELECT first_name FROM users WHERE id = $1', [
        orgOfOther.id,
      ]);
      assert.equal(u[0]?.first_name, orgOfOther.firstName);
    });

    it('5 parallel imports of the same 200-person file into one event: each person once; created sums to 200', async () => {
      const w = await createWorld(t);
      const tag = uniq('par');
      const file = csv([CSV_HEADER, ...Array.from({ length: 200 }, (_, i) => `${tag}-${i}@example.test,F${i},L${i},`)]);
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => fire(importCsv(w.tokens.organisateur, file))),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        [200, 200, 200, 200, 200],
        responses.map((r) => r.text.slice(0, 200)).join('\n'),
      );
      const bodies = responses.map((r) => r.body as ImportResult);
      assert.equal(
        bodies.reduce((n, b) => n + b.created, 0),
        200,
      );
      assert.equal(
        bodies.reduce((n, b) => n + b.updated, 0),
        800,
      );
      for (const b of bodies) assert.deepEqual(b.errors, []);
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 200);
      const where = 'x.event_id = $1 AND u.email LIKE $2';
      assert.equal(
        await countRows(t, 'user_event_assignments x JOIN users u ON u.id = x.user_id', where, [
          w.event.id,
          `${tag}-%`,
        ]),
        200,
      );
      assert.equal(
        await countRows(t, 'participants x JOIN users u ON u.id = x.user_id', where, [w.event.id, `${tag}-%`]),
        200,
      );
    });

    it('lower roles cannot import: 403 and nothing written', async () => {
      const w = await createWorld(t);
      const tag = uniq('low');
      const before = await peopleState(w.event.id, tag);
      for (const role of ['gestionnaire_des_salles', 'controlleur_des_badges', 'exposant', 'participant'] as const) {
        expectError(
          await importCsv(w.tokens[role], csv([CSV_HEADER, `${tag}-${role}@example.test,A,B,organisateur`])),
          403,
          'FORBIDDEN',
        );
      }
      assert.deepEqual(await peopleState(w.event.id, tag), before);
    });
  });

  describe('exports and leads', () => {
    it('attendance.csv of an event with no attendance: header only, never another event’s rows', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const visitor = await createMember(t, other.event.id, 'participant');
      const mark = await t.http
        .post(`/api/events/${other.event.id}/attendees/`)
        .set(bearer(other.tokens.organisateur))
        .send({ participant_id: visitor.participant.id });
      assert.equal(mark.status, 201, mark.text);
      const res = await t.http
        .get(`/api/events/${w.event.id}/attendance.csv`)
        .set(bearer(w.tokens.organisateur))
        .buffer(true)
        .parse(binary);
      assert.equal(res.status, 200);
      const text = (res.body as Buffer).toString('utf8').replace(/^\uFEFF/, '');
      const lines = text.split(/\r?\n/).filter((l) => l !== '');
      assert.equal(lines.length, 1, text);
      assert.match(lines[0] as string, /badge_id/);
      // The other event's export is refused to this organizer.
      expectError(
        await t.http.get(`/api/events/${other.event.id}/attendance.csv`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
    });

    it('an exhibitor of two events: each event’s leads CSV has only that event’s leads', async () => {
      const a = await createWorld(t);
      const b = await createWorld(t);
      const ex = await createUser(t);
      await assign(t, a.event.id, ex.id, 'exposant');
      await assign(t, b.event.id, ex.id, 'exposant');
      const tokenA = (await openSession(t, ex.id, a.event.id)).access;
      const tokenB = (await openSession(t, ex.id, b.event.id)).access;
      const va = await createMember(t, a.event.id, 'participant', { lastName: uniq('OnlyA') });
      const vb = await createMember(t, b.event.id, 'participant', { lastName: uniq('OnlyB') });
      assert.equal((await t.http.post('/api/exposant/scan/').set(bearer(tokenA)).send({ qr_data: va.qr })).status, 201);
      assert.equal((await t.http.post('/api/exposant/scan/').set(bearer(tokenB)).send({ qr_data: vb.qr })).status, 201);
      // A's token with B's badge: unknown here, nothing written.
      const cross = await t.http.post('/api/exposant/scan/').set(bearer(tokenA)).send({ qr_data: vb.qr });
      expectError(cross, 404, 'BADGE_UNKNOWN');
      const csvA = await t.http.get('/api/exposant/scans.csv').set(bearer(tokenA)).buffer(true).parse(binary);
      assert.equal(csvA.status, 200);
      const textA = (csvA.body as Buffer).toString('utf8');
      assert.ok(textA.includes(va.participant.badgeId));
      assert.ok(!textA.includes(vb.participant.badgeId), 'B’s lead is not in A’s export');
      assert.ok(!textA.includes(vb.user.lastName));
      assert.equal(await countRows(t, 'exposant_scans', 'event_id = $1', [a.event.id]), 1);
    });

    it('a visitor whose badge was deleted: their QR is no lead anymore, nothing written', async () => {
      const w = await createWorld(t);
      const ex = await createMember(t, w.event.id, 'exposant');
      const gone = await createMember(t, w.event.id, 'participant');
      await t.http.delete(`/api/participants/${gone.participant.id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      const before = await countRows(t, 'exposant_scans', 'event_id = $1', [w.event.id]);
      const res = await t.http.post('/api/exposant/scan/').set(bearer(ex.token)).send({ qr_data: gone.qr });
      assert.ok([404, 409].includes(res.status), res.text);
      assert.ok(['BADGE_UNKNOWN', 'BADGE_REVOKED'].includes(String(res.body.code)), res.text);
      assert.equal(await countRows(t, 'exposant_scans', 'event_id = $1', [w.event.id]), before);
    });
  });
});
