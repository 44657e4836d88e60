// bench/live_open/first_event.mjs: what the opening record of a socket's live reading costs the
// first event of a space. A short run must deliver every event and print both lines; a bad option
// is refused. Timings are not asserted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../lib/server.mjs';

const bench = path.join(repoRoot, 'bench', 'live_open', 'first_event.mjs');

test('the live-read opening bench delivers every event and prints both figures', () => {
  const r = spawnSync(process.execPath, [bench, '--spaces', '3'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^post to its event at a member's socket, 3 PHI-bearing spaces/m);
  assert.match(r.stdout, /first event \(waits for the opening\) +p50 [\d.]+ ms +p90 [\d.]+ ms/);
  assert.match(r.stdout, /next event +p50 [\d.]+ ms +p90 [\d.]+ ms/);
  const bad = spawnSync(process.execPath, [bench, '--spaces', 'many'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage: node bench\/live_open\/first_event.mjs/);
});
