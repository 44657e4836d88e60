// rounds-bench-post (bench/post): what the PHI scanner, the audit trail and encryption cost a post
// through the app layer. A short run of every configuration must finish with no failed call and
// report, for each, its posts and reads per second and the CPU a post took on all threads, and
// the ratios the governance targets are read from. Timings are not asserted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { roundsBinary } from '../lib/server.mjs';

const benchPost = path.join(path.dirname(roundsBinary), 'bench', 'post', 'rounds-bench-post');

test('rounds-bench-post measures every configuration and the CPU a post costs in each', { skip: !existsSync(benchPost) && `${benchPost} is not built` }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rounds-bench-post-'));
  try {
    const json = path.join(dir, 'figures.json');
    const r = spawnSync(benchPost, ['--seconds', '0.3', '--rounds', '1', '--threads', '4', '--dir', dir, '--json', json],
      { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const figures = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(figures.failures, 0);
    assert.deepEqual(figures.configurations.map((c) => c.name), [
      'scanner on, audit on', 'scanner off, audit on', 'scanner on, audit off', 'scanner off, audit off', 'all on, not encrypted',
    ]);
    for (const c of figures.configurations) {
      assert.ok(c.posts_per_second > 0 && c.reads_per_second > 0, c.name);
      assert.ok(c.cpu_micros_per_post > 0, `${c.name}: CPU per post`);
    }
    for (const ratio of ['scanner_ratio', 'audit_ratio', 'audit_cpu_ratio', 'read_audit_ratio', 'encryption_ratio']) {
      assert.ok(figures[ratio] > 0, ratio);
    }
    const on = figures.configurations[0].cpu_micros_per_post;
    const off = figures.configurations[2].cpu_micros_per_post;
    assert.ok(Math.abs(figures.audit_cpu_ratio - off / on) < 1e-3, 'the CPU ratio is audit off over audit on');
    assert.match(r.stdout, /\| scanner on, audit on \| \d+ \| 100\.0% \| [\d.]+ us \| \d+ \|/);
    assert.match(r.stdout, /posts per CPU-second with audit on: [\d.]+% of audit off/);
    // Each configuration's database is removed after it is measured.
    assert.deepEqual(readdirSync(dir), ['figures.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rounds-bench-post without reads writes valid JSON with no read ratios', { skip: !existsSync(benchPost) && `${benchPost} is not built` }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rounds-bench-post-'));
  try {
    const json = path.join(dir, 'figures.json');
    const r = spawnSync(benchPost, ['--seconds', '0.2', '--rounds', '1', '--threads', '2', '--reads', '0', '--dir', dir, '--json', json],
      { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const figures = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(figures.read_audit_ratio, null);
    assert.equal(figures.read_encryption_ratio, null);
    assert.ok(figures.audit_ratio > 0 && figures.scanner_ratio > 0);
    for (const c of figures.configurations) assert.equal(c.reads_per_second, 0, c.name);
    assert.doesNotMatch(r.stdout, /nan/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rounds-bench-post refuses an unknown option or one without its value, and --help runs nothing', { skip: !existsSync(benchPost) && `${benchPost} is not built` }, () => {
  for (const args of [['--bogus', '1'], ['--rounds'], ['--seconds', '1', '--threads']]) {
    const r = spawnSync(benchPost, args, { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /usage: rounds-bench-post/);
  }
  const help = spawnSync(benchPost, ['--help'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: rounds-bench-post/);
  assert.doesNotMatch(help.stdout, /posts\/s/);
});
