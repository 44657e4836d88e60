// Every route the server registers is documented in docs/api/openapi.yaml, and nothing documented
// is missing from the server.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli } from '../lib/server.mjs';

function documentedRoutes() {
  const text = readFileSync(path.join(repoRoot, 'docs/api/openapi.yaml'), 'utf8');
  const routes = new Set();
  let current = null;
  for (const line of text.split('\n')) {
    const p = line.match(/^  (\/[^:]*):\s*$/);
    if (p) { current = p[1]; continue; }
    if (/^\S/.test(line)) current = null;
    const m = line.match(/^    (get|post|put|patch|delete):\s*$/);
    if (current && m) routes.add(`${m[1].toUpperCase()} ${current}`);
  }
  return routes;
}

test('every registered route is documented, and only those', () => {
  const result = runCli(['routes']);
  assert.equal(result.status, 0, result.stderr);
  const registered = new Set(result.stdout.trim().split('\n'));
  assert.ok(registered.size > 40, `found ${registered.size} routes`);
  const documented = documentedRoutes();
  const undocumented = [...registered].filter((r) => !documented.has(r));
  const stale = [...documented].filter((r) => !registered.has(r));
  assert.deepEqual(undocumented, [], 'routes missing from docs/api/openapi.yaml');
  assert.deepEqual(stale, [], 'documented routes the server does not have');
});
