/**
 * OWASP API Security Top 10 2023 — API2 Broken Authentication.
 *
 * Forged and misused tokens against an event route (where a bypass would matter most) and against the socket.io
 * handshake: `alg: none`, another key, an empty key, a `kid` header, HS512, expired, a refresh token as an access token
 * and the reverse, a selection token as an access token, a refresh token replayed after rotation (the whole family
 * dies, newest pair included), and the tokens of a deleted user, a removed membership and a deleted event. Each
 * refusal is checked to have written nothing; the genuine token is the control.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { expectError } from '../helpers/assertions';
import {
  assign,
  bearer,
  countRows,
  createEvent,
  createUser,
  createWorld,
  PASSWORD,
  uniq,
  type World,
} from '../helpers/factories';
import { closeAllClients, connect, disconnection, refusal } from '../helpers/sockets';
import { bootTestApp, forgetCachedSessions, TEST_JWT_SECRET, type TestApp } from '../helpers/test-app';

const b64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

describe('API2 token attacks', () => {
  let t: TestApp;
  let w: World;
  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  /** A login of a member of one event: `{access, refresh}`. */
  async function login(email: string): Promise<{ access: string; refresh: string }> {
    const res = await t.http.post('/api/auth/login').send({ email, password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    return res.body as { access: string; refresh: string };
  }

  /** The organisateur's write that a forged token tries: create a room. Refused → no room of that name. */
  async function attempt(token: string): Promise<void> {
    const name = uniq('Forged room ');
    expectError(await t.http.post('/api/rooms').set(bearer(token)).send({ name, capacity: 10 }), 401, 'TOKEN_INVALID');
    expectError(await t.http.get('/api/participants').set(bearer(token)), 401, 'TOKEN_INVALID');
    assert.equal(await countRows(t, 'rooms', 'name = $1', [name]), 0);
    const socket = await refusal(t, token);
    assert.equal(socket.message, 'TOKEN_INVALID');
  }

  describe('forged access tokens', () => {
    let claims: Record<string, unknown>;
    before(async () => {
      const {
        iat: _iat,
        exp: _exp,
        ...rest
      } = jwt.decode((await login(w.users.organisateur.email)).access) as Record<string, unknown>;
      claims = rest;
    });

    it('control: a token signed with the right key and algorithm creates the room', async () => {
      const token = jwt.sign({ ...claims, jti: randomUUID() }, TEST_JWT_SECRET, { expiresIn: 60 });
      const res = await t.http
        .post('/api/rooms')
        .set(bearer(token))
        .send({ name: uniq('Real room '), capacity: 10 });
      assert.equal(res.status, 201, res.text);
      (await connect(t, token)).close();
    });

    const forgeries: [string, () => string][] = [
      ['alg none', () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...claims, iat: now() })}.`],
      ['alg None, signature kept', () => `${b64url({ alg: 'None' })}.${b64url({ ...claims, iat: now() })}.c2ln`],
      ['another key', () => jwt.sign(claims, 'an-attacker-key-an-attacker-key-0123456789')],
      ['an empty key', () => signedWithEmptyKey({ alg: 'HS256', typ: 'JWT' }, claims)],
      [
        'a kid header naming an empty file',
        () => signedWithEmptyKey({ alg: 'HS256', kid: '../../../dev/null' }, claims),
      ],
      ['HS512 with the right key', () => jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS512' })],
      ['expired', () => jwt.sign({ ...claims, iat: now() - 7200, exp: now() - 1 }, TEST_JWT_SECRET)],
      ['no expiry at all', () => jwt.sign({ ...claims, iat: now() }, TEST_JWT_SECRET)],
    ];
    for (const [label, forge] of forgeries) {
      it(`${label}: 401 TOKEN_INVALID on REST and on the socket, nothing written`, async () => {
        await attempt(forge());
      });
    }
  });

  describe('token kinds are not interchangeable', () => {
    it('a refresh token as an access token, and an access token as a refresh token: 401', async () => {
      const pair = await login(w.users.organisateur.email);
      await attempt(pair.refresh);
      const asRefresh = await t.http.post('/api/auth/token/refresh').send({ refresh: pair.access });
      assert.ok([400, 401].includes(asRefresh.status), `${asRefresh.status} ${asRefresh.text}`);
      assert.equal(asRefresh.body.access, undefined);
      const ok = await t.http.post('/api/auth/token/refresh').send({ refresh: pair.refresh });
      assert.equal(ok.status, 200, `control: the refresh token is one: ${ok.text}`);
    });

    it('a selection token (temp_token) as an access token: 401 on REST and the socket', async () => {
      const user = await createUser(t);
      const other = await createEvent(t);
      await assign(t, w.event.id, user.id, 'organisateur');
      await assign(t, other.id, user.id, 'organisateur');
      const res = await t.http.post('/api/auth/login').send({ email: user.email, password: PASSWORD }).expect(200);
      await attempt(res.body.temp_token as string);
    });
  });

  describe('refresh token reuse after rotation', () => {
    it('replaying a spent refresh revokes the family: the newest access and refresh die too, sockets close', async () => {
      const member = await createUser(t);
      await assign(t, w.event.id, member.id, 'organisateur');
      const first = await login(member.email);
      const rotated = await t.http.post('/api/auth/token/refresh').send({ refresh: first.refresh });
      assert.equal(rotated.status, 200, rotated.text);
      const second = rotated.body as { access: string; refresh: string };
      const socket = await connect(t, second.access);
      const closed = disconnection(socket);

      expectError(await t.http.post('/api/auth/token/refresh').send({ refresh: first.refresh }), 401, 'TOKEN_INVALID');
      expectError(await t.http.post('/api/auth/token/refresh').send({ refresh: second.refresh }), 401, 'TOKEN_INVALID');
      await attempt(second.access);
      await closed;
    });
  });

  describe('tokens that outlive their owner', () => {
    it('a removed membership: 401 MEMBERSHIP_REVOKED on REST; the socket handshake is refused', async () => {
      const member = await createUser(t);
      await assign(t, w.event.id, member.id, 'gestionnaire_des_salles');
      const { access, refresh } = await login(member.email);
      await t.http.get('/api/participants').set(bearer(access)).expect(200);
      const rows: { id: string }[] = await t.db.query(
        'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
        [w.event.id, member.id],
      );
      await t.http.delete(`/api/user-assignments/${rows[0]?.id}`).set(bearer(w.tokens.organisateur)).expect(204);
      expectError(await t.http.get('/api/participants').set(bearer(access)), 401, 'MEMBERSHIP_REVOKED');
      assert.equal((await refusal(t, access)).message, 'MEMBERSHIP_REVOKED');
      const again = await t.http.post('/api/auth/token/refresh').send({ refresh });
      assert.equal(again.status, 401, again.text);
    });

    it('a deleted user (removed in the database by an operator): 401, refresh refused', async () => {
      const member = await createUser(t);
      await assign(t, w.event.id, member.id, 'organisateur');
      const { access, refresh } = await login(member.email);
      await t.db.query('DELETE FROM users WHERE id = $1', [member.id]);
      forgetCachedSessions(t);
      await attempt(access);
      expectError(await t.http.post('/api/auth/token/refresh').send({ refresh }), 401, 'TOKEN_INVALID');
    });

    it('a deleted event: its tokens stop at once, on REST and sockets', async () => {
      const doomed = await createWorld(t);
      const socket = await connect(t, doomed.tokens.participant);
      const closed = disconnection(socket);
      await t.http.delete(`/api/events/${doomed.event.id}`).set(bearer(doomed.tokens.organisateur)).expect(204);
      await closed;
      for (const token of Object.values(doomed.tokens)) {
        const res = await t.http.get('/api/rooms').set(bearer(token));
        assert.equal(res.status, 401, res.text);
      }
    });
  });
});

/** A JWT with this header, HS256-signed with an empty key (what a verifier that accepts an empty secret would take). */
function signedWithEmptyKey(header: object, claims: object): string {
  const unsigned = `${b64url(header)}.${b64url(claims)}`;
  return `${unsigned}.${createHmac('sha256', '').update(unsigned).digest('base64url')}`;
}
