/** Self attendance inside the event's area: its coordinates and radius (metres), when the organizer set them. */
export interface EventArea {
  latitude: string | number | null;
  longitude: string | number | null;
  radius: number | null;
}

export interface Position {
  latitude?: number;
  longitude?: number;
}

export type AreaVerdict =
  | { ok: true; distance: number | null }
  | { ok: false; code: 'LOCATION_REQUIRED' | 'OUT_OF_AREA'; message: string; distance_m?: number; radius_m?: number };

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine), rounded to the metre. */
export function distanceMetres(a: { latitude: number; longitude: number }, b: typeof a): number {
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return Math.round(2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h))));
}

/**
 * An event without a radius takes attendance from anywhere (a given position is kept, with no distance). With one,
 * the position is required and must lie within the radius, border included.
 */
export function areaVerdict(area: EventArea, at: Position): AreaVerdict {
  if (area.radius === null || area.latitude === null || area.longitude === null) return { ok: true, distance: null };
  if (at.latitude === undefined || at.longitude === undefined) {
    return {
      ok: false,
      code: 'LOCATION_REQUIRED',
      message: 'This event takes attendance on site: send latitude and longitude',
    };
  }
  const distance = distanceMetres(
    { latitude: Number(area.latitude), longitude: Number(area.longitude) },
    { latitude: at.latitude, longitude: at.longitude },
  );
  if (distance > area.radius) {
    return {
      ok: false,
      code: 'OUT_OF_AREA',
      message: `You are ${distance} m from the event; attendance is taken within ${area.radius} m`,
      distance_m: distance,
      radius_m: area.radius,
    };
  }
  return { ok: true, distance };
}
