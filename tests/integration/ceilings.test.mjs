// The bare broadcaster (bench/ceilings), the ceiling the benchmark reads Rounds' fan-out, 1:1 and
// durable latency against, driven by the load generator's bare adapter: one room for fan-out, a
// room per request path for 1:1 pairs (no frame may reach another pair), and with --durable every
// frame synced to a file before it is sent. The generator's own verification (every acknowledged
// message reached every other member once, in order, and nothing foreign arrived) must pass.
// Timings are not asserted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { roundsBinary } from '../lib/server.mjs';
import { loadgenBinary as loadgen, runLoadgen } from '../lib/loadgen.mjs';

const build = path.dirname(roundsBinary);
const broadcaster = path.join(build, 'bench', 'ceilings', 'rounds-bare-broadcaster');
const missing = [loadgen, broadcaster].find((p) => !existsSync(p));
const skip = missing && `${missing} is not built`;

// Starts the broadcaster on a free port; resolves once it listens.
function startBroadcaster(extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(broadcaster, ['--port', '0', '--threads', '1', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no listening line: ${stdout}${stderr}`)); }, 15_000);
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.on('data', (d) => {
      stdout += d;
      const port = /listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout)?.[1];
      if (port && !child.port) {
        clearTimeout(timer);
        child.port = Number(port);
        resolve(child);
      }
    });
    child.output = () => stdout;
    child.on('error', reject);
  });
}

// Stops it with SIGINT and resolves with its closing JSON line.
function stopBroadcaster(child) {
  return new Promise((resolve) => {
    child.on('exit', () => {
      const json = child.output().split('\n').filter((l) => l.startsWith('{'));
      resolve(JSON.parse(json[json.length - 1]));
    });
    child.kill('SIGINT');
  });
}

function runBare(port, pid, args) {
  return runLoadgen(['--adapter', 'bare', '--url', `ws://127.0.0.1:${port}/`, '--server-pid', String(pid),
    '--threads', '2', '--settle-seconds', '0.2', '--drain-seconds', '5', ...args]);
}

function assertVerified({ code, results, stderr }, recipientsPerMessage) {
  assert.equal(code, 0, stderr);
  assert.equal(results.length, 1, stderr);
  const r = results[0];
  assert.equal(r.verify.ok, true, JSON.stringify(r.verify));
  assert.equal(r.verify.foreign, 0, 'no client received a message of another room');
  assert.equal(r.verify.missing, 0);
  assert.equal(r.verify.duplicates, 0);
  assert.ok(r.acked > 0, 'some messages were acknowledged');
  assert.equal(r.deliveries, r.acked * recipientsPerMessage, 'each acknowledged message reached every other member');
  return r;
}

test('bare relay: 1:1 pairs each get a room of their own', { skip }, async () => {
  const server = await startBroadcaster();
  const run = await runBare(server.port, server.pid, ['--scenario', 'direct', '--users', '8', '--rate', '80', '--seconds', '1']);
  const counters = await stopBroadcaster(server);
  const r = assertVerified(run, 1);
  assert.equal(r.groups, 4);
  // Each frame went to its pair only (the sender's echo and the other member), never to all 8.
  assert.equal(counters.frames_out, counters.frames_in * 2);
  assert.equal(counters.durable, false);
  assert.equal(counters.syncs, 0);
});

// A ramp is bounded in steps; one whose last step still kept up says that saturation lies above it
// (bench/report.mjs then reports a lower bound). 40 and 80 msg/s to 8 clients do not saturate.
test('a ramp that ends while the server keeps up says so', { skip }, async () => {
  const server = await startBroadcaster();
  const run = await runBare(server.port, server.pid, ['--scenario', 'direct', '--users', '8', '--rate', '40', '--seconds', '1',
    '--ramp', '--ramp-steps', '2', '--ramp-refine', '1']);
  await stopBroadcaster(server);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.results.map((r) => [r.offered_rate, r.saturated]), [[40, false], [80, false]]);
  assert.match(run.stderr, /the ramp ended at an offered 80 msg\/s still keeping up/);
});

test('bare broadcaster: one room still reaches every member', { skip }, async () => {
  const server = await startBroadcaster();
  const run = await runBare(server.port, server.pid, ['--scenario', 'fanout', '--members', '5', '--rate', '40', '--seconds', '1']);
  const counters = await stopBroadcaster(server);
  assertVerified(run, 4);
  assert.equal(counters.frames_out, counters.frames_in * 5);
});

test('durable bare broadcaster: every frame is synced before it is sent, and its file is removed', { skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rounds-bare-durable-'));
  try {
    const server = await startBroadcaster(['--durable', dir]);
    assert.equal(readdirSync(dir).length, 1, 'the journal file exists while it runs');
    const run = await runBare(server.port, server.pid, ['--scenario', 'direct', '--users', '8', '--rate', '80', '--seconds', '1']);
    const counters = await stopBroadcaster(server);
    assertVerified(run, 1);
    assert.equal(counters.durable, true);
    assert.ok(counters.syncs > 0 && counters.syncs <= counters.frames_in, `syncs ${counters.syncs}, frames ${counters.frames_in}`);
    assert.deepEqual(readdirSync(dir), [], 'the journal file is removed on shutdown');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('durable bare broadcaster: an unusable folder is a clear error', { skip }, async () => {
  const child = spawn(broadcaster, ['--port', '0', '--durable', '/nonexistent-folder/for-the-journal'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /cannot create .*rounds-bare-journal/);
});

const fsyncCeiling = path.join(build, 'bench', 'ceilings', 'rounds-ceiling-fsync');

test('the fsync ceiling reports its slowest sync and the syncs over 10 ms', { skip: !existsSync(fsyncCeiling) && `${fsyncCeiling} is not built` }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rounds-fsync-'));
  try {
    const child = spawn(fsyncCeiling, ['--dir', dir, '--seconds', '0.3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0);
    const line = JSON.parse(stdout.trim().split('\n').pop());
    for (const pattern of ['append', 'overwrite']) {
      const r = line[pattern];
      assert.ok(r.ops > 0, pattern);
      assert.ok(r.p50_ms <= r.p99_ms && r.p99_ms <= r.max_ms, `${pattern}: p50 ${r.p50_ms}, p99 ${r.p99_ms}, max ${r.max_ms}`);
      assert.ok(Number.isInteger(r.over_10ms) && r.over_10ms <= r.ops, `${pattern}: ${r.over_10ms} of ${r.ops}`);
      // A sync over 10 ms is counted exactly when the slowest took that long (max_ms is rounded to µs).
      if (r.over_10ms > 0) assert.ok(r.max_ms >= 10, `${pattern}: ${r.over_10ms} counted, slowest ${r.max_ms} ms`);
      if (r.max_ms > 10.001) assert.ok(r.over_10ms > 0, `${pattern}: slowest ${r.max_ms} ms, none counted`);
    }
    assert.deepEqual(readdirSync(dir), [], 'the scratch file is removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
