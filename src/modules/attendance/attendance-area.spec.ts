import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { areaVerdict, distanceMetres } from './attendance-area';

const algiers = { latitude: 36.7538, longitude: 3.0588 };
const area = { latitude: '36.753800', longitude: '3.058800', radius: 200 };

describe('attendance area', () => {
  it('measures great-circle distances', () => {
    assert.equal(distanceMetres(algiers, algiers), 0);
    // One degree of latitude is about 111.2 km everywhere.
    assert.ok(Math.abs(distanceMetres(algiers, { ...algiers, latitude: 37.7538 }) - 111_195) < 10);
    // Algiers to Oran, about 352 km as the crow flies.
    const oran = { latitude: 35.6971, longitude: -0.6308 };
    assert.ok(Math.abs(distanceMetres(algiers, oran) - 352_000) < 3_000, `${distanceMetres(algiers, oran)}`);
    // Across the antimeridian: short, not half the planet.
    assert.ok(distanceMetres({ latitude: 0, longitude: 179.999 }, { latitude: 0, longitude: -179.999 }) < 300);
  });

  it('accepts anything when the event has no radius, keeping no distance', () => {
    assert.deepEqual(areaVerdict({ latitude: null, longitude: null, radius: null }, {}), { ok: true, distance: null });
    assert.deepEqual(areaVerdict({ ...area, radius: null }, { latitude: 0, longitude: 0 }), {
      ok: true,
      distance: null,
    });
  });

  it('requires a position when the event has a radius', () => {
    const v = areaVerdict(area, {});
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.code, 'LOCATION_REQUIRED');
    assert.equal(areaVerdict(area, { latitude: 36.75 }).ok, false);
  });

  it('accepts inside the radius (border included) and refuses outside with the figures', () => {
    // 0.001° of latitude is about 111 m.
    assert.deepEqual(areaVerdict(area, { latitude: 36.7548, longitude: 3.0588 }), { ok: true, distance: 111 });
    assert.equal(areaVerdict({ ...area, radius: 111 }, { latitude: 36.7548, longitude: 3.0588 }).ok, true);
    const far = areaVerdict(area, { latitude: 36.7578, longitude: 3.0588 });
    assert.equal(far.ok, false);
    assert.deepEqual(!far.ok && [far.code, far.distance_m, far.radius_m], ['OUT_OF_AREA', 445, 200]);
  });
});
