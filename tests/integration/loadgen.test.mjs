// The load generator (bench/loadgen) against the real server: a short, small fanout and a direct
// run must pass its delivery verification — every acknowledged message reached every other member
// exactly once and in order — and report what it measured. Timings are not asserted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startServer, PASSWORD } from './fixtures.mjs';
import { ADMIN } from '../lib/server.mjs';
import { loadgenBinary as loadgen, runLoadgen } from '../lib/loadgen.mjs';

// Both runs use the users lg0..lg3: the first creates them (Argon2id at interactive cost is the
// slow part of set-up), the second only signs them in.
let server;

test.before(async () => {
  ({ server } = await startServer());
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

function runAgainstRounds(args) {
  return runLoadgen(['--adapter', 'rounds', '--url', server.baseUrl, '--admin-password', ADMIN.password,
    '--password', PASSWORD, '--server-pid', String(server.process.pid), '--threads', '2', '--settle-seconds', '0.2', ...args]);
}

function assertVerified({ code, results, stderr }, recipientsPerMessage) {
  assert.equal(code, 0, stderr);
  assert.equal(results.length, 1, stderr);
  const r = results[0];
  assert.equal(r.verify.ok, true, JSON.stringify(r.verify));
  assert.equal(r.verify.missing, 0);
  assert.equal(r.verify.duplicates, 0);
  assert.equal(r.verify.out_of_order, 0);
  assert.ok(r.acked > 0, 'some messages were acknowledged');
  assert.equal(r.errors.send, 0);
  assert.equal(r.deliveries, r.acked * recipientsPerMessage, 'each acknowledged message reached every other member');
  assert.ok(r.latency_ms.count === r.deliveries && r.latency_ms.p50 > 0);
  assert.ok(r.server.cpu_s >= 0 && r.server.rss_kib_after > 0);
  assert.match(stderr, /verified: every acknowledged message once, in order/);
}

test('fanout: every member of a room receives every acknowledged message once, in order', { skip: !existsSync(loadgen) && `${loadgen} is not built` }, async () => {
  const run = await runAgainstRounds(['--scenario', 'fanout', '--members', '4', '--rate', '40', '--seconds', '2',
    '--user-prefix', 'lg']);
  assertVerified(run, 3);
  assert.equal(run.results[0].scenario, 'fanout');
  assert.equal(run.results[0].group_size, 4);
});

test('direct: both sides of each 1:1 conversation receive every acknowledged message once, in order', { skip: !existsSync(loadgen) && `${loadgen} is not built` }, async () => {
  const run = await runAgainstRounds(['--scenario', 'direct', '--users', '4', '--rate', '40', '--seconds', '2',
    '--user-prefix', 'lg']);
  assertVerified(run, 1);
  assert.equal(run.results[0].groups, 2);
});

// Markers repeat from one generator run to the next; the client ids must not, or a post of the
// second run that repeats a marker of the first is answered with the first run's message (the
// server's retry semantics) and never stored.
test('direct: a second run against the same server stores every post under client ids of its own', { skip: !existsSync(loadgen) && `${loadgen} is not built` }, async () => {
  const acked = [];
  const started = Date.now() * 1000;
  for (let i = 0; i < 2; i++) {
    const run = await runAgainstRounds(['--scenario', 'direct', '--users', '2', '--rate', '20', '--seconds', '1',
      '--user-prefix', 'lgr']);
    assertVerified(run, 1);
    acked.push(run.results[0].acked);
  }
  const c = server.client();
  await c.login('lgr0', PASSWORD);
  const direct = (await c.get('/api/v1/spaces')).body.items.filter((s) => s.kind === 'direct');
  assert.equal(direct.length, 1);
  const messages = (await c.get(`/api/v1/spaces/${direct[0].id}/messages?limit=100`)).body.items;
  assert.equal(messages.length, acked[0] + acked[1], 'every acknowledged post of both runs is stored');
  const nonces = new Set();
  const finished = Date.now() * 1000;
  for (const m of messages) {
    // The time the post was made (microseconds, 14 hex digits), the marker, the run's nonce: ids
    // begin with the time, as the web app's UUIDv7s do, so the server's index takes them in order.
    const [time, ...rest] = m.client_id.split('.');
    assert.match(time, /^[0-9a-f]{14}$/, `client id ${m.client_id}`);
    const micros = parseInt(time, 16);
    assert.ok(micros >= started && micros <= finished, `client id ${m.client_id} made during the runs`);
    const tail = rest.join('.');
    assert.ok(tail.startsWith(`${m.body}.`), `client id ${m.client_id} of ${m.body}`);
    nonces.add(tail.slice(m.body.length + 1));
    assert.ok(m.client_id.length <= 64, `client id ${m.client_id} within the server's limit`);
  }
  assert.equal(nonces.size, 2, 'each run posts under client ids of its own');
});
