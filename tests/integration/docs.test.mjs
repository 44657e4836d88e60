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

// The document's shape, checked without a YAML library (the file keeps one layout: paths at two
// spaces, operations at four): every $ref resolves, every {param} in a path is declared, every
// operation has a success and a problem response, and every problem code the server's own
// transport produces is named in the description.
function operations(text) {
  const ops = [];
  let currentPath = null;
  let op = null;
  for (const line of text.split('\n')) {
    const p = line.match(/^  (\/[^:]*):\s*$/);
    if (p) { currentPath = p[1]; op = null; continue; }
    if (/^\S/.test(line)) { currentPath = null; op = null; continue; }
    const m = line.match(/^    (get|post|put|patch|delete):\s*$/);
    if (currentPath && m) { op = { method: m[1], path: currentPath, lines: [] }; ops.push(op); continue; }
    if (op) op.lines.push(line);
  }
  return ops;
}

test('the OpenAPI document is whole: references resolve, parameters and responses are declared', () => {
  const text = readFileSync(path.join(repoRoot, 'docs/api/openapi.yaml'), 'utf8');
  assert.match(text, /^openapi: 3\.1\.\d+$/m);
  const defined = new Set();
  let section = null;
  for (const line of text.split('\n')) {
    const s = line.match(/^  (schemas|responses|securitySchemes):\s*$/);
    if (s) { section = s[1]; continue; }
    if (/^ {0,2}\S/.test(line)) section = section && /^  \S/.test(line) ? section : null;
    const d = line.match(/^    ([A-Za-z]\w*):/);
    if (section && d) defined.add(`${section}/${d[1]}`);
  }
  const missing = [...text.matchAll(/\$ref: '#\/components\/(\w+)\/(\w+)'/g)].map((m) => `${m[1]}/${m[2]}`)
    .filter((ref) => !defined.has(ref));
  assert.deepEqual([...new Set(missing)], [], 'unresolved $refs');
  const problems = [];
  for (const op of operations(text)) {
    const body = op.lines.join('\n');
    const declared = [...body.matchAll(/- name: (\w+)\n\s+in: path/g)].map((m) => m[1]).sort();
    const wanted = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    if (JSON.stringify(declared) !== JSON.stringify(wanted)) problems.push(`${op.method} ${op.path}: path parameters ${declared} vs ${wanted}`);
    if (!/^ {8}'(2\d\d|101)':/m.test(body)) problems.push(`${op.method} ${op.path}: no success response`);
    if (!op.path.match(/^\/(healthz|readyz)$/) && !/'4\d\d': \{\$ref: '#\/components\/responses\/Problem'\}/.test(body)) {
      problems.push(`${op.method} ${op.path}: no problem response`);
    }
    if (/requestBody:/.test(body) && !/'413':/.test(body)) problems.push(`${op.method} ${op.path}: a body but no 413`);
    if (!/summary: /.test(body)) problems.push(`${op.method} ${op.path}: no summary`);
  }
  assert.deepEqual(problems, []);
  for (const code of ['malformed_json', 'invalid_utf8', 'too_deep', 'duplicate_key', 'unknown_field', 'method_not_allowed',
    'payload_too_large', 'csrf_required', 'csrf_mismatch', 'mfa_enrollment_required', 'ambiguous_framing', 'origin_not_allowed', 'upgrade_required']) {
    assert.ok(text.includes(code), `the problem code ${code} is documented`);
  }
  for (const frame of ['resume', 'resumed', 'presence_snapshot', 'typing', 'pong', '4001', '4008', '1001']) {
    assert.ok(text.includes(frame), `the WebSocket protocol mentions ${frame}`);
  }
});
