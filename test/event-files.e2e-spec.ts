import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { EVENT_ROLES } from '../src/common/auth/event-role';
import { bearer, createWorld, type World } from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { binary } from './helpers/requests';
import { uploadFolder } from './helpers/uploads';
import { bootTestApp, type TestApp } from './helpers/test-app';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex'),
]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
const HTML = Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>');
const NON_ORGANIZER_ROLES = EVENT_ROLES.filter((r) => r !== 'organisateur');

describe('event files', () => {
  let t: TestApp;
  const uploads = uploadFolder('makeplus-uploads-');
  const uploadDir = uploads.dir;
  const filesOf = uploads.filesOf;

  before(async () => {
    t = await bootTestApp({ UPLOAD_DIR: uploadDir, MAX_UPLOAD_MB: '1' });
  });
  after(async () => {
    await t.close();
    uploads.remove();
  });
  const upload = (w: World, kind: string, body: Buffer, filename: string, contentType: string, token?: string) =>
    t.http
      .put(`/api/events/${w.event.id}/files/${kind}/`)
      .set(bearer(token ?? w.tokens.organisateur))
      .attach('file', body, { filename, contentType });
  const download = (w: World, kind: string, token: string) =>
    t.http.get(`/api/events/${w.event.id}/files/${kind}/`).set(bearer(token)).buffer(true).parse(binary);
  /** A download expected to fail: the JSON error body. */
  const downloadError = (w: World, kind: string, token: string) =>
    t.http.get(`/api/events/${w.event.id}/files/${kind}/`).set(bearer(token));
  const eventOf = async (w: World) =>
    (await t.http.get(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur))).body as Record<string, unknown>;

  describe('organisateur', () => {
    it('uploads a PDF programme and a PNG logo; the event shows download URLs; downloads return the bytes', async () => {
      const w = await createWorld(t);
      const before = await eventOf(w);
      assert.equal(before.programme_file, null);
      assert.equal(before.logo_url, null);

      const pdf = await upload(w, 'programme', PDF, 'programme.pdf', 'application/pdf');
      assert.equal(pdf.status, 200, pdf.text);
      assert.equal(pdf.body.id, w.event.id);
      assert.equal(pdf.body.programme_file, `/api/events/${w.event.id}/files/programme/`);
      assert.equal(pdf.body.guide_file, null);

      const png = await upload(w, 'logo', PNG, 'logo.png', 'image/png');
      assert.equal(png.status, 200, png.text);
      assert.equal(png.body.logo_url, `/api/events/${w.event.id}/files/logo/`);
      assert.equal(png.body.programme_file, `/api/events/${w.event.id}/files/programme/`);
      assert.equal(png.body.banner_url, null);

      const shown = await eventOf(w);
      assert.equal(shown.logo_url, `/api/events/${w.event.id}/files/logo/`);
      assert.equal(shown.programme_file, `/api/events/${w.event.id}/files/programme/`);
      assert.doesNotMatch(JSON.stringify(shown), new RegExp(uploadDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

      const files = filesOf(w.event.id);
      assert.equal(files.length, 2);
      assert.ok(
        files.some((f) => /^logo-[0-9a-f]{16}\.png$/.test(f)),
        files.join(),
      );
      assert.ok(
        files.some((f) => /^programme-[0-9a-f]{16}\.pdf$/.test(f)),
        files.join(),
      );
      const mode = statSync(join(uploadDir, 'events', w.event.id, files[0] as string)).mode & 0o777;
      assert.equal(mode & 0o077, 0, `stored file is private (mode ${mode.toString(8)})`);

      const gotPdf = await download(w, 'programme', w.tokens.organisateur);
      assert.equal(gotPdf.status, 200);
      assert.ok(Buffer.compare(gotPdf.body as Buffer, PDF) === 0, 'identical PDF bytes');
      assert.match(String(gotPdf.headers['content-type']), /^application\/pdf/);
      assert.equal(gotPdf.headers['content-disposition'], 'attachment; filename="programme.pdf"');
      assert.equal(gotPdf.headers['x-content-type-options'], 'nosniff');

      const gotPng = await download(w, 'logo', w.tokens.participant);
      assert.equal(gotPng.status, 200);
      assert.ok(Buffer.compare(gotPng.body as Buffer, PNG) === 0, 'identical PNG bytes');
      assert.match(String(gotPng.headers['content-type']), /^image\/png/);
      assert.equal(gotPng.headers['content-disposition'], 'attachment; filename="logo.png"');
      assert.equal(gotPng.headers['x-content-type-options'], 'nosniff');
    });

    it('a JPEG banner is stored as .jpg whatever the declared name and type', async () => {
      const w = await createWorld(t);
      const res = await upload(w, 'banner', JPEG, 'banner.gif', 'application/octet-stream');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.banner_url, `/api/events/${w.event.id}/files/banner/`);
      const got = await download(w, 'banner', w.tokens.exposant);
      assert.equal(got.status, 200);
      assert.match(String(got.headers['content-type']), /^image\/jpeg/);
      assert.equal(got.headers['content-disposition'], 'attachment; filename="banner.jpg"');
    });

    it('content decides, not the name: PNG named .pdf, HTML/SVG named .png, empty file → 400, nothing stored', async () => {
      const w = await createWorld(t);
      const cases: Response[] = [
        await upload(w, 'programme', PNG, 'programme.pdf', 'application/pdf'),
        await upload(w, 'guide', PNG, 'guide.pdf', 'application/pdf'),
        await upload(w, 'logo', PDF, 'logo.png', 'image/png'),
        await upload(w, 'logo', HTML, 'logo.png', 'image/png'),
        await upload(w, 'banner', SVG, 'banner.png', 'image/png'),
        await upload(w, 'banner', SVG, 'banner.svg', 'image/svg+xml'),
        await upload(w, 'programme', Buffer.alloc(0), 'empty.pdf', 'application/pdf'),
        await upload(w, 'programme', Buffer.from('%PDF'), 'short.pdf', 'application/pdf'),
      ];
      for (const res of cases) expectValidation(res, 'file');
      assert.deepEqual(filesOf(w.event.id), []);
      const shown = await eventOf(w);
      for (const key of ['logo_url', 'banner_url', 'programme_file', 'guide_file']) assert.equal(shown[key], null);
    });

    it('larger than MAX_UPLOAD_MB → 413, the partial file is deleted and the event unchanged', async () => {
      const w = await createWorld(t);
      const big = Buffer.concat([PDF, Buffer.alloc(1024 * 1024 + 10, 0x20)]);
      const res = await upload(w, 'programme', big, 'big.pdf', 'application/pdf');
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      assert.deepEqual(filesOf(w.event.id), []);
      assert.equal((await eventOf(w)).programme_file, null);

      // Control: just under the limit is accepted.
      const fits = Buffer.concat([PDF, Buffer.alloc(1024 * 1024 - PDF.length - 1, 0x20)]);
      assert.equal((await upload(w, 'programme', fits, 'fits.pdf', 'application/pdf')).status, 200);
      assert.equal(filesOf(w.event.id).length, 1);
    });

    it('replacing a file deletes the old one once the new one is saved', async () => {
      const w = await createWorld(t);
      assert.equal((await upload(w, 'guide', PDF, 'a.pdf', 'application/pdf')).status, 200);
      const [first] = filesOf(w.event.id);
      assert.ok(first);
      const second = Buffer.concat([PDF, Buffer.from('% second version\n')]);
      assert.equal((await upload(w, 'guide', second, 'b.pdf', 'application/pdf')).status, 200);
      const after = filesOf(w.event.id);
      assert.equal(after.length, 1);
      assert.notEqual(after[0], first);
      const got = await download(w, 'guide', w.tokens.organisateur);
      assert.ok(Buffer.compare(got.body as Buffer, second) === 0, 'the new version is served');

      // A refused replacement keeps the current file.
      expectValidation(await upload(w, 'guide', PNG, 'c.pdf', 'application/pdf'), 'file');
      assert.deepEqual(filesOf(w.event.id), after);
    });

    it('another event id → 404, nothing stored', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const res = await t.http
        .put(`/api/events/${other.event.id}/files/logo/`)
        .set(bearer(w.tokens.organisateur))
        .attach('file', PNG, { filename: 'logo.png', contentType: 'image/png' });
      expectError(res, 404, 'NOT_FOUND');
      assert.deepEqual(filesOf(other.event.id), []);
      assert.deepEqual(filesOf(w.event.id), []);
    });

    it('unknown kind → 400; missing or misnamed file part → 400 errors.file', async () => {
      const w = await createWorld(t);
      expectValidation(await upload(w, 'avatar', PNG, 'a.png', 'image/png'), 'kind');
      const fieldOnly = await t.http
        .put(`/api/events/${w.event.id}/files/logo/`)
        .set(bearer(w.tokens.organisateur))
        .field('name', 'logo');
      expectValidation(fieldOnly, 'file');
      const misnamed = await t.http
        .put(`/api/events/${w.event.id}/files/logo/`)
        .set(bearer(w.tokens.organisateur))
        .attach('image', PNG, { filename: 'logo.png', contentType: 'image/png' });
      expectValidation(misnamed, 'file');
      assert.deepEqual(filesOf(w.event.id), []);
    });

    it('a JSON body on the upload route → 415; multipart elsewhere is still 415', async () => {
      const w = await createWorld(t);
      const json = await t.http
        .put(`/api/events/${w.event.id}/files/logo/`)
        .set(bearer(w.tokens.organisateur))
        .send({ file: 'iVBORw0KGgo=' });
      expectError(json, 415, 'UNSUPPORTED_MEDIA_TYPE');

      const name = `multipart-${Date.now()}`;
      const create = await t.http
        .post('/api/events/')
        .set(bearer(w.tokens.organisateur))
        .field('name', name)
        .field('start_date', new Date(Date.now() + 86400_000).toISOString())
        .field('end_date', new Date(Date.now() + 2 * 86400_000).toISOString());
      expectError(create, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const patch = await t.http
        .patch(`/api/events/${w.event.id}/`)
        .set(bearer(w.tokens.organisateur))
        .attach('file', PNG, { filename: 'logo.png', contentType: 'image/png' });
      expectError(patch, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const rows: unknown[] = await t.db.query('SELECT 1 FROM events WHERE name = $1', [name]);
      assert.equal(rows.length, 0);
      assert.deepEqual(filesOf(w.event.id), []);
    });

    it('only one file per request', async () => {
      const w = await createWorld(t);
      const res = await t.http
        .put(`/api/events/${w.event.id}/files/logo/`)
        .set(bearer(w.tokens.organisateur))
        .attach('file', PNG, { filename: 'a.png', contentType: 'image/png' })
        .attach('file', PNG, { filename: 'b.png', contentType: 'image/png' });
      // The first file is taken; the second is beyond the limit and never stored.
      assert.ok([200, 413].includes(res.status), res.text);
      assert.ok(filesOf(w.event.id).length <= 1);
    });
  });

  for (const role of NON_ORGANIZER_ROLES) {
    describe(role, () => {
      it('upload → 403, nothing stored; download of the own event works', async () => {
        const w = await createWorld(t);
        expectError(await upload(w, 'logo', PNG, 'logo.png', 'image/png', w.tokens[role]), 403, 'FORBIDDEN');
        expectError(await upload(w, 'programme', PDF, 'p.pdf', 'application/pdf', w.tokens[role]), 403, 'FORBIDDEN');
        assert.deepEqual(filesOf(w.event.id), []);
        assert.equal((await eventOf(w)).logo_url, null);

        assert.equal((await upload(w, 'programme', PDF, 'p.pdf', 'application/pdf')).status, 200);
        const got = await download(w, 'programme', w.tokens[role]);
        assert.equal(got.status, 200);
        assert.ok(Buffer.compare(got.body as Buffer, PDF) === 0);
      });
    });
  }

  describe('download', () => {
    it('no file yet → 404; a member of another event → 404; unauthenticated → 401', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      expectError(await downloadError(w, 'guide', w.tokens.participant), 404, 'NOT_FOUND');
      assert.equal((await upload(w, 'guide', PDF, 'g.pdf', 'application/pdf')).status, 200);
      expectError(await downloadError(w, 'guide', other.tokens.participant), 404, 'NOT_FOUND');
      expectError(await downloadError(w, 'guide', other.tokens.organisateur), 404, 'NOT_FOUND');
      expectValidation(await downloadError(w, 'avatar', w.tokens.participant), 'kind');
      const anonymous = await t.http.get(`/api/events/${w.event.id}/files/guide/`);
      expectError(anonymous, 401, 'AUTH_REQUIRED');
      // Control: the own participant gets it.
      assert.equal((await download(w, 'guide', w.tokens.participant)).status, 200);
    });

    it('deleting the event removes its files', async () => {
      const w = await createWorld(t);
      assert.equal((await upload(w, 'logo', PNG, 'l.png', 'image/png')).status, 200);
      assert.equal(filesOf(w.event.id).length, 1);
      const res = await t.http.delete(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur));
      assert.equal(res.status, 204);
      assert.deepEqual(filesOf(w.event.id), []);
    });
  });
});
