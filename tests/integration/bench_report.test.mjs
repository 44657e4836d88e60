// The benchmark's report (bench/report.mjs) on runs written here: a ramp that ended while the
// server still kept up has only a lower bound for its saturation, and every figure and ratio
// made from it must say so, with a verdict that a bound cannot decide. Against a broadcaster, a
// ramp too short to saturate it must say so too.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const report = path.join(repo, 'bench', 'report.mjs');

// One ramp step as the load generator writes it.
function step(label, offered, perSecond, { saturated = false, members = 2, p99 = 5 } = {}) {
  return {
    label, adapter: label.split(' ')[0] === 'bare' ? 'bare' : 'rounds', scenario: label.includes('fanout') ? 'fanout' : 'direct',
    offered_rate: offered, messages_per_s: perSecond, deliveries_per_s: perSecond * (members - 1),
    group_size: members, clients: 1000, latency_ms: { p50: 1, p90: 2, p99, max: p99 * 2 },
    errors: { send: 0 }, verify: { ok: true }, saturated,
  };
}

function runReport(runs) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rounds-report-'));
  try {
    writeFileSync(path.join(dir, 'runs.ndjson'), runs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const done = spawnSync(process.execPath, [report, path.join(dir, 'runs.ndjson'), dir], { encoding: 'utf8' });
    assert.equal(done.status, 0, done.stderr);
    return { json: JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8')), md: readFileSync(path.join(dir, 'latest.md'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a ramp that never fell behind is reported as a lower bound, and its ratios as bounds', { skip: !existsSync(report) && 'no bench/report.mjs' }, () => {
  const runs = [
    { kind: 'machine', cpu: 'test', cores: 2, memory_gib: 1, commit: 'test', date: '2026-12-04' },
    { kind: 'ceiling', ceiling: 'sqlite', batch: { rows_per_s: 100000 }, single: { commits_per_s: 5000 } },
    // The bare relay saturates (its last step fell behind); Rounds' 1:1 ramp kept up to its end.
    step('bare direct ramp', 16000, 15990),
    step('bare direct ramp', 32000, 24000, { saturated: true }),
    step('rounds direct ramp', 3200, 3198),
    step('rounds direct ramp', 6400, 6364),
    // Rounds' fan-out saturates; ejabberd's fan-out ramp ended before it did.
    step('rounds fanout ramp', 800, 800, { members: 100 }),
    step('rounds fanout ramp', 1600, 1000, { members: 100, saturated: true }),
    step('ejabberd fanout ramp', 20, 20, { members: 100 }),
    step('ejabberd fanout ramp', 40, 40, { members: 100 }),
    // ejabberd's 1:1 ramp saturates.
    step('ejabberd direct ramp', 300, 300),
    step('ejabberd direct ramp', 600, 310, { saturated: true }),
  ];
  const { json, md } = runReport(runs);
  assert.equal(json.summary.rounds.direct.saturation_msgs_per_s, 6364);
  assert.equal(json.summary.rounds.direct.saturation_reached, false);
  assert.equal(json.summary.rounds.fanout.saturation_reached, true);
  assert.equal(json.summary.ejabberd.fanout.saturation_reached, false);
  assert.match(md, /\| 1:1 saturation, messages\/s \| ≥ 6,364 \| 310 \|/);
  assert.match(md, /\| fan-out saturation, messages\/s \| 1,000 \| ≥ 40 \|/);
  // 6,364 / 310: at least 20.5×, which meets ≥ 20× whatever the rest of the ramp would have shown.
  const direct = json.targets['1:1 sustained vs ejabberd'];
  assert.match(direct.measured, /^≥ 20\.5× /);
  assert.match(direct.measured, /Rounds ≥ 27% of it/);
  assert.equal(direct.verdict, 'met');
  // 99,000 / 3,960 deliveries: at most 25×, which neither meets nor misses ≥ 20× for certain.
  const fanout = json.targets['Group fan-out saturation vs ejabberd'];
  assert.match(fanout.measured, /^≤ 25\.0× /);
  assert.equal(fanout.verdict, 'not established: a ramp ended before saturation');
  // A bound below the goal, where the relay that does none of Rounds' work misses it as well.
  const ingest = json.targets['Ingest vs SQLite group-commit ceiling (audit + PHI scan on)'];
  assert.match(ingest.measured, /^≥ 6% \(bare relay, storing nothing: 24%\)$/);
  assert.equal(ingest.verdict, 'missed; beyond this machine (its ceiling misses it too)');
});

test('a ramp that fell behind reports exact figures', { skip: !existsSync(report) && 'no bench/report.mjs' }, () => {
  const { json, md } = runReport([
    step('rounds direct ramp', 3200, 3198),
    step('rounds direct ramp', 6400, 5000, { saturated: true }),
    step('rounds direct ramp', 4800, 4790),
    step('ejabberd direct ramp', 300, 200, { saturated: true }),
  ]);
  assert.equal(json.summary.rounds.direct.saturation_msgs_per_s, 5000);
  assert.equal(json.summary.rounds.direct.saturation_reached, true);
  assert.match(md, /\| 1:1 saturation, messages\/s \| 5,000 \| 200 \|/);
  assert.match(json.targets['1:1 sustained vs ejabberd'].measured, /^25\.0× /);
  assert.equal(json.targets['1:1 sustained vs ejabberd'].verdict, 'met');
});

test('the fan-out latency target is met only below both peers at their own half loads', { skip: !existsSync(report) && 'no bench/report.mjs' }, () => {
  const half = (label, offered, p99) => step(label, offered, offered, { members: 100, p99 });
  const runs = (ejabberdP99) => [
    step('rounds fanout ramp', 800, 800, { members: 100 }),
    step('rounds fanout ramp', 1600, 1000, { members: 100, saturated: true }),
    half('rounds fanout half', 400, 12),
    step('ejabberd fanout ramp', 200, 200, { members: 100 }),
    step('ejabberd fanout ramp', 400, 250, { members: 100, saturated: true }),
    half('ejabberd fanout half', 100, ejabberdP99),
  ];
  const slower = runReport(runs(30)).json.targets['Group fan-out p99 at 50% of saturation'];
  assert.match(slower.measured, /^12\.0 ms; at their own half loads ejabberd 30\.0 ms/);
  assert.equal(slower.verdict, 'met');
  // Within 20 ms, but a peer's own half-load p99 was lower.
  const faster = runReport(runs(8)).json.targets['Group fan-out p99 at 50% of saturation'];
  assert.match(faster.measured, /ejabberd 8\.0 ms/);
  assert.equal(faster.verdict, 'missed');
});
