import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EventRole } from '../src/common/auth/event-role';
import { expectError, expectValidation } from './helpers/assertions';
import {
  bearer,
  countRows,
  createMember,
  createRoom,
  createSession,
  createWorld,
  type World,
} from './helpers/factories';
import { fire, tally } from './helpers/requests';
import { closeAllClients, connect, recorder, request, sleep } from './helpers/sockets';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * Session Q&A (API.md, "Questions"): who asks, votes, moderates and answers; what each person sees (pending, hidden,
 * anonymous); one vote per person under concurrency; the exact rate limit; and the socket events.
 */

const AUDIENCE: EventRole[] = ['participant', 'exposant'];
const STAFF: EventRole[] = ['organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges'];
const MODERATORS: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];
const NON_MODERATORS: EventRole[] = ['controlleur_des_badges', 'participant', 'exposant'];
const QUIET_MS = 300;

interface Q {
  id: string;
  status: string;
  upvotes: number;
  asked_by_name: string | null;
  has_upvoted?: boolean;
  question_text?: string;
  removed?: boolean;
}

describe('session questions', () => {
  let t: TestApp;
  let w: World;
  let session: string;

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
    session = await createSession(t, w.event.id, await createRoom(t, w.event.id));
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  const ask = (token: string, body: object, s = session) =>
    t.http.post(`/api/sessions/${s}/questions/`).set(bearer(token)).send(body);
  const listOf = async (token: string, s = session): Promise<Q[]> => {
    const res = await t.http.get(`/api/sessions/${s}/questions/?page_size=100`).set(bearer(token));
    assert.equal(res.status, 200, res.text);
    return res.body.results as Q[];
  };
  const member = async (role: EventRole = 'participant') => createMember(t, w.event.id, role);

  describe('asking', () => {
    for (const role of AUDIENCE) {
      it(`${role} asks: 201, approved at once without moderation`, async () => {
        const m = await member(role);
        const res = await ask(m.token, { question_text: '  How long is the talk?  ' });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.question_text, 'How long is the talk?');
        assert.equal(res.body.status, 'approved');
        assert.equal(res.body.upvotes, 0);
        assert.equal(res.body.has_upvoted, false);
        assert.match(res.body.asked_by_name, /\S/);
      });
    }
    for (const role of STAFF) {
      it(`${role} does not ask (403), nothing written`, async () => {
        const before = await countRows(t, 'questions', 'session_id = $1', [session]);
        expectError(await ask(w.tokens[role], { question_text: 'Staff?' }), 403, 'FORBIDDEN');
        assert.equal(await countRows(t, 'questions', 'session_id = $1', [session]), before);
      });
    }

    it('refuses bad input and unknown sessions, writing nothing', async () => {
      const m = await member();
      const before = await countRows(t, 'questions');
      expectValidation(await ask(m.token, {}), 'question_text');
      expectValidation(await ask(m.token, { question_text: '   ' }), 'question_text');
      expectValidation(await ask(m.token, { question_text: 'x'.repeat(1001) }), 'question_text');
      expectValidation(await ask(m.token, { question_text: 'ok', is_anonymous: 'yes' }), 'is_anonymous');
      expectValidation(await ask(m.token, { question_text: 'ok', status: 'answered' }), 'status');
      expectValidation(await ask(m.token, { question_text: 'ok', upvotes: 99 }), 'upvotes');
      const other = await createWorld(t);
      const foreign = await createSession(t, other.event.id, await createRoom(t, other.event.id));
      expectError(await ask(m.token, { question_text: 'ok' }, foreign), 404, 'NOT_FOUND');
      const cancelled = await createSession(t, w.event.id, await createRoom(t, w.event.id), { status: 'cancelled' });
      expectError(await ask(m.token, { question_text: 'ok' }, cancelled), 409, 'SESSION_CLOSED');
      assert.equal(await countRows(t, 'questions'), before);
    });

    it('rate limit: 10 parallel questions by one person → exactly 5 created, the rest 429 with Retry-After', async () => {
      const m = await member();
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => fire(ask(m.token, { question_text: `Burst ${i}` }))),
      );
      assert.deepEqual(tally(responses), { 201: 5, 429: 5 });
      const limited = responses.find((r) => r.status === 429);
      assert.equal(limited?.body.code, 'RATE_LIMITED');
      assert.equal(limited?.headers['retry-after'], '60');
      assert.equal(await countRows(t, 'questions', 'asked_by_id = $1', [m.user.id]), 5);
    });
  });

  describe('who sees what', () => {
    it('anonymous: no name for the audience, the name for moderators', async () => {
      const asker = await member();
      const id = (await ask(asker.token, { question_text: 'Anonymous one', is_anonymous: true })).body.id as string;
      const forAudience = (await listOf(w.tokens.exposant)).find((q) => q.id === id);
      assert.equal(forAudience?.asked_by_name, null);
      const forModerator = (await listOf(w.tokens.gestionnaire_des_salles)).find((q) => q.id === id);
      assert.match(String(forModerator?.asked_by_name), /\S/);
    });

    it('moderated event: pending for its author and moderators only, until approved', async () => {
      const moderated = await createWorld(t, { settings: { qa_moderation: true } });
      const s = await createSession(t, moderated.event.id, await createRoom(t, moderated.event.id));
      const asker = await createMember(t, moderated.event.id);
      const res = await ask(asker.token, { question_text: 'Needs a look' }, s);
      assert.equal(res.body.status, 'pending');
      const id = res.body.id as string;
      const sees = async (token: string) => (await listOf(token, s)).some((q) => q.id === id);
      assert.equal(await sees(asker.token), true);
      assert.equal(await sees(moderated.tokens.organisateur), true);
      assert.equal(await sees(moderated.tokens.participant), false);
      expectError(
        await t.http.post(`/api/questions/${id}/upvote/`).set(bearer(moderated.tokens.participant)),
        404,
        'NOT_FOUND',
      );
      const ok = await t.http
        .patch(`/api/questions/${id}/`)
        .set(bearer(moderated.tokens.gestionnaire_des_salles))
        .send({ status: 'approved' });
      assert.equal(ok.body.status, 'approved');
      assert.equal(await sees(moderated.tokens.participant), true);
    });

    it('hidden: only moderators see it; sorted by upvotes for everyone', async () => {
      const s = await createSession(t, w.event.id, await createRoom(t, w.event.id));
      const [a, b, c] = [await member(), await member(), await member()];
      const low = (await ask(a.token, { question_text: 'Low' }, s)).body.id as string;
      const high = (await ask(b.token, { question_text: 'High' }, s)).body.id as string;
      const hidden = (await ask(c.token, { question_text: 'Rude' }, s)).body.id as string;
      for (const m of [a, c]) await t.http.post(`/api/questions/${high}/upvote/`).set(bearer(m.token)).expect(200);
      await t.http.patch(`/api/questions/${hidden}/`).set(bearer(w.tokens.organisateur)).send({ status: 'hidden' });
      const audience = await listOf(w.tokens.participant, s);
      assert.deepEqual(
        audience.map((q) => q.id),
        [high, low],
      );
      assert.equal(audience[0]?.upvotes, 2);
      const moderators = await listOf(w.tokens.organisateur, s);
      assert.equal(moderators.length, 3);
      expectError(await t.http.post(`/api/questions/${hidden}/upvote/`).set(bearer(a.token)), 404, 'NOT_FOUND');
      expectError(await t.http.delete(`/api/questions/${hidden}/`).set(bearer(a.token)), 404, 'NOT_FOUND');
    });
  });

  describe('votes', () => {
    it('once per person: a repeat changes nothing, DELETE takes it back', async () => {
      const q = (await ask((await member()).token, { question_text: 'Vote me' })).body.id as string;
      const voter = bearer(w.tokens.participant);
      assert.equal((await t.http.post(`/api/questions/${q}/upvote/`).set(voter)).body.upvotes, 1);
      const again = await t.http.post(`/api/questions/${q}/upvote/`).set(voter);
      assert.equal(again.body.upvotes, 1);
      assert.equal(again.body.has_upvoted, true);
      const back = await t.http.delete(`/api/questions/${q}/upvote/`).set(voter);
      assert.equal(back.body.upvotes, 0);
      assert.equal(back.body.has_upvoted, false);
      assert.equal((await t.http.delete(`/api/questions/${q}/upvote/`).set(voter)).body.upvotes, 0);
      for (const role of STAFF) {
        expectError(await t.http.post(`/api/questions/${q}/upvote/`).set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
      }
      assert.equal(await countRows(t, 'question_upvotes', 'question_id = $1', [q]), 0);
    });

    it('50 parallel upvotes by one participant → one vote; 40 voters in parallel → 40 (a naive counter loses some)', async () => {
      const q = (await ask((await member()).token, { question_text: 'Parallel' })).body.id as string;
      const responses = await Promise.all(
        Array.from({ length: 50 }, () =>
          fire(t.http.post(`/api/questions/${q}/upvote/`).set(bearer(w.tokens.participant))),
        ),
      );
      assert.deepEqual(tally(responses), { 200: 50 });
      assert.equal(await countRows(t, 'question_upvotes', 'question_id = $1', [q]), 1);
      const [{ upvotes }] = await t.db.query('SELECT upvotes FROM questions WHERE id = $1', [q]);
      assert.equal(upvotes, 1);

      const voters = await Promise.all(Array.from({ length: 40 }, () => member()));
      await Promise.all(voters.map((v) => fire(t.http.post(`/api/questions/${q}/upvote/`).set(bearer(v.token)))));
      const [after] = await t.db.query('SELECT upvotes FROM questions WHERE id = $1', [q]);
      assert.equal(after.upvotes, 41);
      assert.equal(await countRows(t, 'question_upvotes', 'question_id = $1', [q]), 41);

      // Negative control: read the counter, then write it back plus one, from 40 connections at once.
      await t.db.query('UPDATE questions SET upvotes = 0 WHERE id = $1', [q]);
      await Promise.all(
        Array.from({ length: 40 }, async () => {
          const [{ upvotes: seen }] = await t.db.query('SELECT upvotes FROM questions WHERE id = $1', [q]);
          await sleep(5);
          await t.db.query('UPDATE questions SET upvotes = $2 WHERE id = $1', [q, seen + 1]);
        }),
      );
      const [naive] = await t.db.query('SELECT upvotes FROM questions WHERE id = $1', [q]);
      assert.ok(naive.upvotes < 40, `a naive counter ended at ${naive.upvotes}`);
    });
  });

  describe('moderation and answers', () => {
    for (const role of MODERATORS) {
      it(`${role} moderates and answers`, async () => {
        const q = (await ask((await member()).token, { question_text: `For ${role}` })).body.id as string;
        const hidden = await t.http
          .patch(`/api/questions/${q}/`)
          .set(bearer(w.tokens[role]))
          .send({ status: 'hidden' });
        assert.equal(hidden.status, 200, hidden.text);
        assert.equal(hidden.body.status, 'hidden');
        const answered = await t.http
          .patch(`/api/questions/${q}/answer/`)
          .set(bearer(w.tokens[role]))
          .send({ answer_text: 'Forty minutes' });
        assert.equal(answered.body.status, 'answered');
        assert.equal(answered.body.answer_text, 'Forty minutes');
        assert.match(answered.body.answered_by_name, new RegExp(`^${role} `));
        assert.ok(answered.body.answered_at);
      });
    }
    for (const role of NON_MODERATORS) {
      it(`${role} neither moderates nor answers (403), nothing changed`, async () => {
        const q = (await ask((await member()).token, { question_text: `Not by ${role}` })).body.id as string;
        const as = bearer(w.tokens[role]);
        expectError(await t.http.patch(`/api/questions/${q}/`).set(as).send({ status: 'hidden' }), 403, 'FORBIDDEN');
        expectError(
          await t.http.patch(`/api/questions/${q}/answer/`).set(as).send({ answer_text: 'x' }),
          403,
          'FORBIDDEN',
        );
        const [row] = await t.db.query('SELECT status, answer_text FROM questions WHERE id = $1', [q]);
        assert.deepEqual(row, { status: 'approved', answer_text: null });
      });
    }

    it('bad moderation input is refused', async () => {
      const q = (await ask((await member()).token, { question_text: 'Bad input' })).body.id as string;
      const o = bearer(w.tokens.organisateur);
      expectValidation(await t.http.patch(`/api/questions/${q}/`).set(o).send({ status: 'answered' }), 'status');
      expectValidation(
        await t.http.patch(`/api/questions/${q}/answer/`).set(o).send({ answer_text: '' }),
        'answer_text',
      );
      const other = await createWorld(t);
      expectError(
        await t.http.patch(`/api/questions/${q}/`).set(bearer(other.tokens.organisateur)).send({ status: 'hidden' }),
        404,
        'NOT_FOUND',
      );
    });

    it('delete: the author or a moderator; another participant is refused', async () => {
      const author = await member();
      const q1 = (await ask(author.token, { question_text: 'Mine' })).body.id as string;
      const q2 = (await ask(author.token, { question_text: 'Also mine' })).body.id as string;
      expectError(await t.http.delete(`/api/questions/${q1}/`).set(bearer(w.tokens.participant)), 403, 'FORBIDDEN');
      assert.equal((await t.http.delete(`/api/questions/${q1}/`).set(bearer(author.token))).status, 204);
      assert.equal(
        (await t.http.delete(`/api/questions/${q2}/`).set(bearer(w.tokens.gestionnaire_des_salles))).status,
        204,
      );
      assert.equal(await countRows(t, 'questions', 'id = ANY($1)', [[q1, q2]]), 0);
    });
  });

  describe('socket events', () => {
    it('questionAsked to moderators only; questionUpdated to the session, the audience never seeing hidden content', async () => {
      const s = await createSession(t, w.event.id, await createRoom(t, w.event.id));
      const moderator = await connect(t, w.tokens.gestionnaire_des_salles);
      const inSession = await connect(t, w.tokens.participant);
      const outside = await connect(t, w.tokens.exposant);
      assert.equal((await request(inSession, 'joinSession', { session_id: s })).ok, true);
      assert.equal((await request(moderator, 'joinSession', { session_id: s })).ok, true);
      const asked = { moderator: recorder(moderator, 'questionAsked'), audience: recorder(inSession, 'questionAsked') };
      const updated = {
        moderator: recorder(moderator, 'questionUpdated'),
        audience: recorder(inSession, 'questionUpdated'),
        outside: recorder(outside, 'questionUpdated'),
      };
      const asker = await member();
      const id = (await ask(asker.token, { question_text: 'Secret sauce?', is_anonymous: true }, s)).body.id as string;
      const m = (await asked.moderator.next((x) => (x as Q).id === id)) as Q;
      assert.match(String(m.asked_by_name), /\S/, 'moderators know who asked');
      const shown = (await updated.audience.next((x) => (x as Q).id === id)) as Q;
      assert.equal(shown.asked_by_name, null, 'the audience does not');
      assert.equal(shown.question_text, 'Secret sauce?');

      await t.http.patch(`/api/questions/${id}/`).set(bearer(w.tokens.organisateur)).send({ status: 'hidden' });
      const gone = (await updated.audience.next((x) => (x as Q).id === id && (x as Q).removed === true)) as Q;
      assert.deepEqual(Object.keys(gone).sort(), ['id', 'removed', 'session'], 'no content once hidden');
      await updated.moderator.next((x) => (x as Q).id === id && (x as Q).status === 'hidden');
      await sleep(QUIET_MS);
      assert.equal(asked.audience.received.length, 0);
      assert.equal(updated.outside.received.length, 0, 'not in the session');
      const leaked = updated.audience.received.filter((x) => (x as Q).status === 'hidden');
      assert.equal(leaked.length, 0);
    });
  });
});
