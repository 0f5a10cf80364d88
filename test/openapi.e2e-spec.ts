import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { OPENAPI_FILE, generateOpenApi, renderOpenApi } from '../src/openapi';
import { bootTestApp, type TestApp } from './helpers/test-app';

type Paths = Record<string, unknown>;

/** The paths added, removed or changed between two documents, to say where the drift is. */
function pathDrift(committed: Paths, served: Paths): string[] {
  const names = [...new Set([...Object.keys(committed), ...Object.keys(served)])].sort();
  return names.flatMap((name) => {
    if (!(name in committed)) return [`+ ${name}`];
    if (!(name in served)) return [`- ${name}`];
    return renderOpenApi(committed[name]) === renderOpenApi(served[name]) ? [] : [`~ ${name}`];
  });
}

describe('OpenAPI document', () => {
  let t: TestApp;
  let served: string;
  before(async () => {
    t = await bootTestApp();
    const res = await t.http.get('/api/docs-json').expect(200);
    served = renderOpenApi(res.body);
  });
  after(() => t.close());

  it('openapi.json (committed) is the document the app serves at /api/docs-json', () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    if (committed === served) return;
    const drift = pathDrift(
      (JSON.parse(committed) as { paths: Paths }).paths,
      (JSON.parse(served) as { paths: Paths }).paths,
    );
    assert.fail(
      `openapi.json is out of date: run \`npm run openapi\` and commit it.\n` +
        (drift.length > 0 ? `Paths: ${drift.join(', ')}` : 'The paths agree; something else (schemas, info) changed.'),
    );
  });

  it('`npm run openapi` (no database) builds exactly the served document', async () => {
    assert.equal(renderOpenApi(await generateOpenApi()), served);
  });
});
