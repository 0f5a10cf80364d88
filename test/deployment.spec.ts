import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The node flags of a command line: the words before the script, starting with `--`. */
const flagsOf = (words: string[]) =>
  words
    .slice(
      0,
      words.findIndex((w) => w.endsWith('.js')),
    )
    .filter((w) => w.startsWith('--'));

describe('deployment', () => {
  it('npm start, start:prod and the Docker image run node with the same flags (benches read them from npm start)', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const start = flagsOf((scripts.start ?? '').split(/\s+/));
    assert.ok(start.includes('--max-semi-space-size=8'), scripts.start);
    assert.deepEqual(flagsOf((scripts['start:prod'] ?? '').split(/\s+/)), start);
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    assert.ok(cmd, 'the Dockerfile has a CMD in exec form');
    const words = JSON.parse(cmd) as string[];
    assert.equal(words[0], 'node');
    assert.deepEqual(flagsOf(words), start);
  });
});
