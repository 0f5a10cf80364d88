import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away UPLOAD_DIR for one spec file, and what an event's folder in it holds. */
export function uploadFolder(prefix: string): {
  dir: string;
  filesOf: (eventId: string) => string[];
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    filesOf: (eventId) => {
      try {
        return readdirSync(join(dir, 'events', eventId)).sort();
      } catch {
        return [];
      }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
