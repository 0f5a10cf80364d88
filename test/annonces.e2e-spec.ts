import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { EVENT_ROLES, type EventRole } from '../src/common/auth/event-role';
import { AnnoncesService } from '../src/modules/annonces/annonces.service';
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
import { sharedRedisEnv, startPair, type Instance } from './helpers/instance';
import { closeAllClients, connect, recorder, sleep, type ClientSocket } from './helpers/sockets';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * Annonces (API.md, "Annonces"): who may write them, who sees them in the list and receives the `annonce` socket
 * event (the targeting matrix), scheduled publication (once, also with two instances), read receipts, validation.
 */

const WRITERS: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];
const NON_WRITERS: EventRole[] = ['controlleur_des_badges', 'exposant', 'participant'];
const TARGET_ROLE: Record<string, EventRole> = {
  participants: 'participant',
  exposants: 'exposant',
  controlleurs: 'controlleur_des_badges',
  gestionnaires: 'gestionnaire_des_salles',
  organisateurs: 'organisateur',
};
const QUIET_MS = 300;

interface Person {
  label: string;
  token: string;
  userId: string;
}

describe('annonces', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp({ ANNONCE_SCHEDULER_INTERVAL_MS: '100' });
    w = await createWorld(t);
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  const post = (token: string, body: object) => t.http.post('/api/annonces/').set(bearer(token)).send(body);
  const list = async (token: string): Promise<string[]> => {
    const res = await t.http.get('/api/annonces/?page_size=100').set(bearer(token));
    assert.equal(res.status, 200, res.text);
    return (res.body.results as { id: string }[]).map((a) => a.id);
  };

  describe('who writes', () => {
    for (const role of WRITERS) {
      it(`${role} creates one: 201, published now, with its author`, async () => {
        const res = await post(w.tokens[role], { title: `  From ${role}  `, description: 'Doors open at 9' });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.title, `From ${role}`);
        assert.equal(res.body.target, 'all');
        assert.equal(res.body.created_by, w.users[role].id);
        assert.match(res.body.created_by_name, new RegExp(`^${role} `));
        assert.ok(res.body.published_at, 'published at once');
        assert.equal(res.body.is_read, false);
      });
    }
    for (const role of NON_WRITERS) {
      it(`${role} is refused (403) and nothing is written`, async () => {
        const before = await countRows(t, 'annonces', 'event_id = $1', [w.event.id]);
        expectError(await post(w.tokens[role], { title: 'Nope' }), 403, 'FORBIDDEN');
        assert.equal(await countRows(t, 'annonces', 'event_id = $1', [w.event.id]), before);
      });
    }

    it('a gestionnaire changes and deletes only their own; an organisateur any', async () => {
      const mine = (await post(w.tokens.gestionnaire_des_salles, { title: 'Mine' })).body.id as string;
      const theirs = (await post(w.tokens.organisateur, { title: 'Theirs' })).body.id as string;
      const g = w.tokens.gestionnaire_des_salles;
      expectError(await t.http.patch(`/api/annonces/${theirs}/`).set(bearer(g)).send({ title: 'x' }), 403, 'FORBIDDEN');
      expectError(await t.http.delete(`/api/annonces/${theirs}/`).set(bearer(g)), 403, 'FORBIDDEN');
      assert.equal((await t.http.patch(`/api/annonces/${mine}/`).set(bearer(g)).send({ title: 'Edited' })).status, 200);
      assert.equal(
        (await t.http.patch(`/api/annonces/${mine}/`).set(bearer(w.tokens.organisateur)).send({ title: 'By org' })).body
          .title,
        'By org',
      );
      assert.equal((await t.http.delete(`/api/annonces/${theirs}/`).set(bearer(w.tokens.organisateur))).status, 204);
      assert.equal(await countRows(t, 'annonces', 'id = $1', [theirs]), 0);
      for (const role of NON_WRITERS) {
        expectError(await t.http.delete(`/api/annonces/${mine}/`).set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
      }
      assert.equal(await countRows(t, 'annonces', 'id = $1', [mine]), 1);
    });

    it('refuses bad input with the documented error and writes nothing', async () => {
      const other = await createWorld(t);
      const foreignRoom = await createRoom(t, other.event.id);
      const before = await countRows(t, 'annonces', 'event_id = $1', [w.event.id]);
      const o = w.tokens.organisateur;
      expectValidation(await post(o, {}), 'title');
      expectValidation(await post(o, { title: '   ' }), 'title');
      expectValidation(await post(o, { title: 'x'.repeat(201) }), 'title');
      expectValidation(await post(o, { title: 'ok', description: 'x'.repeat(5001) }), 'description');
      expectValidation(await post(o, { title: 'ok', target: 'everyone' }), 'target');
      expectValidation(await post(o, { title: 'ok', target_rooms: ['nope'] }), 'target_rooms');
      expectValidation(await post(o, { title: 'ok', target_rooms: [foreignRoom] }), 'target_rooms');
      expectValidation(await post(o, { title: 'ok', target_sessions: [randomUUID()] }), 'target_sessions');
      expectValidation(await post(o, { title: 'ok', publish_at: 'tomorrow' }), 'publish_at');
      expectValidation(await post(o, { title: 'ok', is_read: true }), 'is_read');
      expectValidation(await post(o, { title: 'ok', created_by: w.users.participant.id }), 'created_by');
      assert.equal(await countRows(t, 'annonces', 'event_id = $1', [w.event.id]), before);
    });

    it("another event's annonce is a 404, for reading, marking and changing", async () => {
      const other = await createWorld(t);
      const foreign = (await post(other.tokens.organisateur, { title: 'Elsewhere' })).body.id as string;
      expectError(await t.http.get(`/api/annonces/${foreign}/`).set(bearer(w.tokens.organisateur)), 404, 'NOT_FOUND');
      expectError(
        await t.http.post(`/api/annonces/${foreign}/read/`).set(bearer(w.tokens.participant)),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http.patch(`/api/annonces/${foreign}/`).set(bearer(w.tokens.organisateur)).send({ title: 'x' }),
        404,
        'NOT_FOUND',
      );
      assert.equal(!(await list(w.tokens.organisateur)).includes(foreign), true);
    });
  });

  describe('targeting matrix: the list and the socket event reach exactly the targeted people', () => {
    let people: Person[];
    let sockets: Map<string, ReturnType<typeof recorder<'annonce'>>>;
    let room: string;
    let otherRoom: string;
    let freeSession: string;
    let paidSession: string;
    let other: World;

    before(async () => {
      w = await createWorld(t);
      other = await createWorld(t);
      room = await createRoom(t, w.event.id);
      otherRoom = await createRoom(t, w.event.id);
      freeSession = await createSession(t, w.event.id, room);
      paidSession = await createSession(t, w.event.id, otherRoom, { type: 'atelier', isPaid: true, price: '10.00' });
      const inRoom = await createMember(t, w.event.id, 'participant', { firstName: 'InRoom' });
      const paying = await createMember(t, w.event.id, 'participant', { firstName: 'Paying' });
      const exhibitorInRoom = await createMember(t, w.event.id, 'exposant', { firstName: 'ExpoInRoom' });
      await t.db.query('UPDATE participants SET current_room_id = $1 WHERE id = ANY($2)', [
        room,
        [inRoom.participant.id, exhibitorInRoom.participant.id],
      ]);
      await t.db.query(
        `INSERT INTO session_access (event_id, session_id, participant_id, payment_status) VALUES ($1, $2, $3, 'paid')`,
        [w.event.id, paidSession, paying.participant.id],
      );
      people = [
        ...EVENT_ROLES.map((role) => ({ label: role, token: w.tokens[role], userId: w.users[role].id })),
        { label: 'inRoom', token: inRoom.token, userId: inRoom.user.id },
        { label: 'paying', token: paying.token, userId: paying.user.id },
        { label: 'exhibitorInRoom', token: exhibitorInRoom.token, userId: exhibitorInRoom.user.id },
        ...EVENT_ROLES.map((role) => ({ label: `other:${role}`, token: other.tokens[role], userId: '' })),
      ];
      sockets = new Map();
      for (const p of people) {
        const socket: ClientSocket = await connect(t, p.token);
        sockets.set(p.label, recorder(socket, 'annonce'));
      }
    });

    const roles = (labels: EventRole[]) => labels as string[];
    // Who should see each kind of annonce (writers always see everything in the list; the socket goes to targets).
    const cases: { name: string; body: () => object; targets: () => string[] }[] = [
      {
        name: 'all',
        body: () => ({ target: 'all' }),
        targets: () => [...roles([...EVENT_ROLES]), 'inRoom', 'paying', 'exhibitorInRoom'],
      },
      ...Object.entries(TARGET_ROLE).map(([target, role]) => ({
        name: target,
        body: () => ({ target }),
        targets: () => [
          role,
          ...(role === 'participant' ? ['inRoom', 'paying'] : role === 'exposant' ? ['exhibitorInRoom'] : []),
        ],
      })),
      {
        name: 'all, inside a room',
        body: () => ({ target_rooms: [room] }),
        targets: () => ['inRoom', 'exhibitorInRoom'],
      },
      {
        name: 'participants, inside a room',
        body: () => ({ target: 'participants', target_rooms: [room] }),
        targets: () => ['inRoom'],
      },
      {
        name: 'with access to a paid atelier',
        body: () => ({ target_sessions: [paidSession] }),
        targets: () => ['paying'],
      },
      {
        // createWorld's members have a role but no badge (they were assigned directly): not attendees.
        name: 'with access to a free session (every badge)',
        body: () => ({ target: 'participants', target_sessions: [freeSession] }),
        targets: () => ['inRoom', 'paying'],
      },
    ];

    for (const c of cases) {
      it(`target ${c.name}`, async () => {
        for (const r of sockets.values()) r.received.length = 0;
        const res = await post(w.tokens.organisateur, { title: `To ${c.name}`, ...c.body() });
        assert.equal(res.status, 201, res.text);
        const id = res.body.id as string;
        const targets = new Set(c.targets());
        for (const label of targets) {
          const got = await (sockets.get(label) as ReturnType<typeof recorder<'annonce'>>).next(
            (a) => (a as { id: string }).id === id,
          );
          assert.equal((got as { title: string }).title, `To ${c.name}`);
        }
        await sleep(QUIET_MS);
        for (const p of people) {
          const received = (sockets.get(p.label)?.received ?? []).filter((a) => (a as { id: string }).id === id);
          assert.equal(received.length, targets.has(p.label) ? 1 : 0, `socket of ${p.label}`);
          const seen = (await list(p.token)).includes(id);
          const writer = !p.label.startsWith('other:') && WRITERS.includes(p.label as EventRole);
          assert.equal(seen, targets.has(p.label) || writer, `list of ${p.label}`);
        }
      });
    }
  });

  describe('scheduled publication', () => {
    it('is invisible to its targets until publish_at, then published once and pushed once', async () => {
      const participant = await connect(t, w.tokens.participant);
      const pushed = recorder(participant, 'annonce');
      const at = new Date(Date.now() + 1200);
      const res = await post(w.tokens.organisateur, { title: 'Soon', target: 'participants', publish_at: at });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.published_at, null);
      const id = res.body.id as string;
      assert.equal((await list(w.tokens.participant)).includes(id), false);
      assert.equal((await list(w.tokens.organisateur)).includes(id), true, 'writers see scheduled ones');
      expectError(await t.http.get(`/api/annonces/${id}/`).set(bearer(w.tokens.participant)), 404, 'NOT_FOUND');
      // Due in 1.2 s with a 100 ms scheduler; the margin is for a loaded CI machine (a full run once needed > 3 s).
      const got = await pushed.next((a) => (a as { id: string }).id === id, 8000);
      assert.ok(Date.now() >= at.getTime() - 5, 'not before its time');
      assert.ok((got as { published_at: string }).published_at);
      assert.equal((await list(w.tokens.participant)).includes(id), true);
      await sleep(500);
      assert.equal(pushed.received.filter((a) => (a as { id: string }).id === id).length, 1);
    });

    it('the audience cannot change once published (409), the text can', async () => {
      const id = (await post(w.tokens.organisateur, { title: 'Out' })).body.id as string;
      const o = bearer(w.tokens.organisateur);
      expectError(
        await t.http.patch(`/api/annonces/${id}/`).set(o).send({ target: 'exposants' }),
        409,
        'ANNONCE_ALREADY_PUBLISHED',
      );
      assert.equal((await t.http.patch(`/api/annonces/${id}/`).set(o).send({ description: 'typo' })).status, 200);
    });

    it('20 publishers racing over 30 due annonces publish each exactly once (a naive select-then-update does not)', async () => {
      const service = t.app.get(AnnoncesService, { strict: false });
      const due = async (n: number) => {
        await t.db.query(
          `INSERT INTO annonces (event_id, title, publish_at)
           SELECT $1, 'race ' || i, now() + interval '1 hour' FROM generate_series(1, $2) AS i`,
          [w.event.id, n],
        );
        // Made due all at once, so that the publishers start together on the same rows.
        await t.db.query(
          `UPDATE annonces SET publish_at = now() WHERE event_id = $1 AND title LIKE 'race %'
                           AND published_at IS NULL`,
          [w.event.id],
        );
      };
      await due(30);
      const counts = await Promise.all(Array.from({ length: 20 }, () => service.publishDue()));
      assert.equal(
        counts.reduce((a, b) => a + b, 0),
        30,
      );

      // Negative control: read the due ones, then mark them; concurrent readers publish the same annonce twice. Two
      // publishers that both read before either marks (a barrier, not a sleep: with 20 and a sleep, a small pool
      // let them run one after the other, and the control sometimes saw no double publication).
      await t.db.query(`DELETE FROM annonces WHERE event_id = $1 AND title LIKE 'race %'`, [w.event.id]);
      await due(30);
      let reads = 0;
      let bothRead: () => void = () => undefined;
      const barrier = new Promise<void>((resolve) => (bothRead = resolve));
      const naive = await Promise.all(
        Array.from({ length: 2 }, async () => {
          const runner = t.db.createQueryRunner();
          await runner.connect();
          try {
            const rows: { id: string }[] = await runner.query(
              `SELECT id FROM annonces WHERE event_id = $1 AND published_at IS NULL AND publish_at <= now()`,
              [w.event.id],
            );
            if (++reads === 2) bothRead();
            await barrier;
            // One row at a time (autocommit): concurrent naive publishers would deadlock on a multi-row UPDATE.
            for (const row of rows)
              await runner.query('UPDATE annonces SET published_at = now() WHERE id = $1', [row.id]);
            return rows.length;
          } finally {
            await runner.release();
          }
        }),
      );
      assert.ok(naive.reduce((a, b) => a + b, 0) > 30, `naive publications: ${naive.reduce((a, b) => a + b, 0)}`);
    });
  });

  describe('read receipts', () => {
    it('marks read for the caller only; repeating changes nothing; only what they may see', async () => {
      const id = (await post(w.tokens.organisateur, { title: 'Read me', target: 'participants' })).body.id as string;
      const p = bearer(w.tokens.participant);
      const first: Response = await t.http.post(`/api/annonces/${id}/read/`).set(p);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.is_read, true);
      assert.equal((await t.http.post(`/api/annonces/${id}/read/`).set(p)).status, 200);
      assert.equal(await countRows(t, 'annonce_reads', 'annonce_id = $1', [id]), 1);
      assert.equal((await t.http.get(`/api/annonces/${id}/`).set(p)).body.is_read, true);
      assert.equal((await t.http.get(`/api/annonces/${id}/`).set(bearer(w.tokens.organisateur))).body.is_read, false);
      // An exposant is not targeted: the annonce does not exist for them.
      expectError(await t.http.post(`/api/annonces/${id}/read/`).set(bearer(w.tokens.exposant)), 404, 'NOT_FOUND');
      assert.equal(await countRows(t, 'annonce_reads', 'annonce_id = $1', [id]), 1);
    });
  });
});

describe('annonces with two instances', () => {
  let a: TestApp;
  let b: Instance;
  let close: () => Promise<void>;
  let w: World;

  before(async () => {
    ({ a, b, close } = await startPair({ ...sharedRedisEnv(), ANNONCE_SCHEDULER_INTERVAL_MS: '50' }));
    w = await createWorld(a);
  });
  after(async () => {
    closeAllClients();
    await close();
  });

  it('ten scheduled annonces are each published once and pushed once, both schedulers running', async () => {
    const onA = recorder(await connect(a, w.tokens.participant), 'annonce');
    const onB = recorder(await connect(b.port, w.tokens.exposant), 'annonce');
    const at = new Date(Date.now() + 800);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await a.http
        .post('/api/annonces/')
        .set(bearer(w.tokens.organisateur))
        .send({ title: `Scheduled ${i}`, publish_at: at });
      assert.equal(res.status, 201, res.text);
      ids.push(res.body.id as string);
    }
    for (const id of ids) {
      await onA.next((x) => (x as { id: string }).id === id, 4000);
      await onB.next((x) => (x as { id: string }).id === id, 4000);
    }
    await sleep(500);
    for (const r of [onA, onB]) {
      const mine = r.received.filter((x) => ids.includes((x as { id: string }).id));
      assert.equal(mine.length, 10, 'each annonce once on each socket');
    }
    assert.equal(await countRows(a, 'annonces', 'id = ANY($1) AND published_at IS NOT NULL', [ids]), 10);
  });
});
