// rounds-bench-phi (bench/phi): an option it does not know is refused before anything is measured,
// so a mistyped flag never passes for a measurement taken with the defaults.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { roundsBinary } from '../lib/server.mjs';

const benchPhi = path.join(path.dirname(roundsBinary), 'bench', 'phi', 'rounds-bench-phi');

test('rounds-bench-phi refuses an unknown option and --help measures nothing', { skip: !existsSync(benchPhi) && `${benchPhi} is not built` }, () => {
  for (const args of [['--bogus'], ['--seconds'], ['--quality-only', '--throughput']]) {
    const r = spawnSync(benchPhi, args, { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /usage: rounds-bench-phi/);
    assert.equal(r.stdout, '');
  }
  const help = spawnSync(benchPhi, ['--help'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: rounds-bench-phi/);
  assert.doesNotMatch(help.stdout, /MB\/s|recall/);
});
