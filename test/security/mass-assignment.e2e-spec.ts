/**
 * OWASP API Security Top 10 2023 — API3 Broken Object Property Level Authorization (mass assignment), and the
 * property side of API6 (a participant cannot pay, check in or promote themselves by adding a field).
 *
 * Fields a caller must never set — role, is_staff, is_checked_in / checked_in_at, payment fields (has_access,
 * payment_status, amount_paid), counters (current_participants, scan_count, upvotes), event_id, created_by /
 * assigned_by / marked_by, ids — are sent in the write bodies where an attacker would try them, each with an otherwise
 * valid body: 400 VALIDATION_FAILED naming the field, and nothing of the event or the users changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { getMetadataStorage } from 'class-validator';
import type { EventRole } from '../../src/common/auth/event-role';
import { expectError, expectValidation } from '../helpers/assertions';
import { bearer, createEvent } from '../helpers/factories';
import { bootTestApp, type TestApp } from '../helpers/test-app';
import { createRichWorld, eventDigest, type RichWorld } from './fixtures';

type Method = 'post' | 'patch' | 'put';
interface Case {
  method: Method;
  path: string;
  role: EventRole;
  /** A body the route accepts, to which the forbidden field is added. */
  valid: Record<string, unknown>;
  field: string;
  value: unknown;
}

describe('API3 mass assignment', () => {
  let t: TestApp;
  let w: RichWorld;
  let otherEvent: string;
  before(async () => {
    t = await bootTestApp();
    w = await createRichWorld(t);
    otherEvent = (await createEvent(t)).id;
  });
  after(() => t.close());

  function cases(): Case[] {
    const c = (
      method: Method,
      path: string,
      role: EventRole,
      valid: Record<string, unknown>,
      fields: Record<string, unknown>,
    ): Case[] => Object.entries(fields).map(([field, value]) => ({ method, path, role, valid, field, value }));
    const ev = w.event.id;
    return [
      // A participant on their own objects.
      ...c(
        'patch',
        '/api/participants/me',
        'participant',
        { share_contact_with_exhibitors: true },
        {
          is_checked_in: true,
          checked_in_at: new Date().toISOString(),
          role: 'organisateur',
          allowed_rooms: [],
          event_id: otherEvent,
          qr_code_data: 'chosen-qr',
          badge_id: 'VIP-1',
        },
      ),
      ...c(
        'patch',
        '/api/auth/profile',
        'participant',
        { first_name: 'Eve' },
        {
          is_staff: true,
          role: 'organisateur',
          email: 'eve@evil.test',
          event: otherEvent,
        },
      ),
      ...c(
        'post',
        `/api/sessions/${w.atelierId}/attend`,
        'participant',
        {},
        {
          has_access: true,
          payment_status: 'paid',
          amount_paid: '0.00',
          method: 'manual',
          marked_by: w.users.organisateur.id,
        },
      ),
      // Routes that take no body at all: any field is refused, not silently dropped.
      ...c('post', `/api/events/${ev}/attend`, 'participant', {}, { attended_at: '2020-01-01T00:00:00Z' }),
      ...c('post', `/api/events/${otherEvent}/register`, 'participant', {}, { status: 'confirmed', position: 0 }),
      ...c('post', `/api/questions/${w.questionId}/upvote`, 'exposant', {}, { upvotes: 100 }),
      ...c('post', `/api/annonces/${w.annonceId}/read`, 'participant', {}, { read_at: '2020-01-01T00:00:00Z' }),
      ...c('post', `/api/sessions/${w.sessionId}/mark_live`, 'gestionnaire_des_salles', {}, { status: 'completed' }),
      ...c('post', `/api/participants/${w.badge.id}/rotate-qr`, 'organisateur', {}, { qr_code_data: 'chosen-qr' }),
      ...c(
        'post',
        `/api/sessions/${w.sessionId}/questions`,
        'participant',
        { question_text: 'Q?' },
        {
          status: 'answered',
          upvotes: 100,
          asked_by: w.users.organisateur.id,
          event_id: otherEvent,
        },
      ),
      ...c(
        'post',
        '/api/exposant/scan',
        'exposant',
        { qr_data: w.badge.qr },
        { scan_count: 100, event_id: otherEvent },
      ),
      ...c(
        'patch',
        `/api/exposant/scans/${w.leadId}`,
        'exposant',
        { rating: 3 },
        {
          scan_count: 0,
          first_scanned_at: '2020-01-01T00:00:00Z',
          participant_id: w.exposantBadge.id,
          exposant_user_id: w.users.organisateur.id,
        },
      ),
      // Staff writes: read-only and derived fields.
      ...c(
        'post',
        '/api/rooms',
        'organisateur',
        { name: 'Mass room', capacity: 10 },
        {
          current_participants: 5,
          event_id: otherEvent,
          id: w.roomId,
        },
      ),
      ...c(
        'patch',
        `/api/rooms/${w.roomId}`,
        'organisateur',
        { capacity: 60 },
        {
          current_participants: 0,
          occupancy_percentage: 0,
          event: otherEvent,
        },
      ),
      ...c(
        'patch',
        `/api/participants/${w.badge.id}`,
        'organisateur',
        { allowed_rooms: [] },
        {
          is_checked_in: true,
          checked_in_at: new Date().toISOString(),
          qr_code_data: 'chosen-qr',
          user_id: w.users.exposant.id,
        },
      ),
      ...c(
        'patch',
        `/api/session-access/${w.sessionAccessId}`,
        'organisateur',
        { payment_status: 'paid' },
        {
          has_access: true,
          session_id: w.sessionId,
          participant_id: w.exposantBadge.id,
        },
      ),
      ...c(
        'patch',
        `/api/events/${ev}`,
        'organisateur',
        { name: 'Renamed' },
        {
          created_by: w.users.participant.id,
          total_participants: 0,
          status: 'completed',
          id: otherEvent,
        },
      ),
      ...c(
        'post',
        '/api/annonces',
        'organisateur',
        { title: 'Hello' },
        {
          created_by: w.users.participant.id,
          event_id: otherEvent,
          is_read: true,
        },
      ),
      ...c(
        'patch',
        `/api/user-assignments/${w.userAssignmentId}`,
        'organisateur',
        { is_active: true },
        {
          event_id: otherEvent,
          assigned_by: w.users.participant.id,
          user_id: w.users.exposant.id,
        },
      ),
      ...c(
        'post',
        `/api/events/${ev}/attendees`,
        'gestionnaire_des_salles',
        { participant_id: w.badge.id },
        {
          marked_by: w.users.participant.id,
          method: 'discord',
          attended_at: '2020-01-01T00:00:00Z',
        },
      ),
      ...c(
        'post',
        `/api/rooms/${w.roomId}/verify_access`,
        'controlleur_des_badges',
        { qr_data: w.badge.qr },
        {
          status: 'granted',
          verified_by: w.users.participant.id,
          room_id: w.roomId,
        },
      ),
    ];
  }

  it('every body of every route is a validated DTO class (a union or `object` type would skip validation)', () => {
    const unvalidated: string[] = [];
    for (const module of t.app.get(ModulesContainer).values()) {
      for (const { metatype } of module.controllers.values()) {
        if (!metatype) continue;
        for (const name of Object.getOwnPropertyNames(metatype.prototype)) {
          const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, name) ?? {}) as Record<
            string,
            { index: number }
          >;
          const types = (Reflect.getMetadata('design:paramtypes', metatype.prototype, name) ?? []) as unknown[];
          for (const [key, { index }] of Object.entries(args)) {
            if (Number(key.split(':')[0]) !== RouteParamtypes.BODY) continue;
            const type = types[index] as (new () => object) | undefined;
            // A DTO class carries class-validator metadata; Object (unions, `object`, `unknown`) does not.
            if (
              !type ||
              type === Object ||
              getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).length === 0
            ) {
              unvalidated.push(`${metatype.name}.${name}`);
            }
          }
        }
      }
    }
    assert.deepEqual(unvalidated, []);
  });

  it('every forbidden field is a 400 naming it; the event and its users are unchanged', async () => {
    const before = await eventDigest(t, w.event.id);
    const users = await t.db.query('SELECT * FROM users WHERE id = ANY($1) ORDER BY id', [
      Object.values(w.users).map((u) => u.id),
    ]);
    const all = cases();
    for (const k of all) {
      const res = await t.http[k.method](k.path)
        .set(bearer(w.tokens[k.role]))
        .send({ ...k.valid, [k.field]: k.value });
      assert.equal(res.status, 400, `${k.role} ${k.method} ${k.path} with ${k.field}: ${res.status} ${res.text}`);
      expectValidation(res, k.field);
    }
    assert.ok(all.length >= 50, `cases: ${all.length}`);
    assert.deepEqual(await eventDigest(t, w.event.id), before);
    assert.deepEqual(
      await t.db.query('SELECT * FROM users WHERE id = ANY($1) ORDER BY id', [Object.values(w.users).map((u) => u.id)]),
      users,
    );
  });

  it('the caller is checked before the body: a refused role or no token gets 403/401, not a 400', async () => {
    const body = { qr_code_data: 'chosen-qr' };
    const path = `/api/participants/${w.badge.id}/rotate-qr`;
    expectError(await t.http.post(path).set(bearer(w.tokens.participant)).send(body), 403, 'FORBIDDEN');
    expectError(await t.http.post(path).send(body), 401, 'AUTH_REQUIRED');
  });

  it('control: the same bodies without the forbidden field are accepted', async () => {
    const seen = new Set<string>();
    for (const k of cases()) {
      const key = `${k.method} ${k.path}`;
      // Actions are left out: they are not idempotent (a second rotate-qr, a live session) or need a running event.
      if (seen.has(key) || Object.keys(k.valid).length === 0 || k.path.endsWith('/verify_access')) continue;
      seen.add(key);
      const res = await t.http[k.method](k.path).set(bearer(w.tokens[k.role])).send(k.valid);
      assert.ok(res.status === 200 || res.status === 201, `${k.role} ${key}: ${res.status} ${res.text}`);
    }
  });
});
