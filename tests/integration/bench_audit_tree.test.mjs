// rounds-bench-audit-tree (bench/audit_tree): what the audit trail's Merkle tree costs. A short run
// must build the tree, reload it, grow it, check every proof it makes against the root (the bench
// exits 1 on one that does not verify), keep exactly the subtrees of 256 leaves and more, and leave
// nothing behind. Timings are not asserted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { roundsBinary } from '../lib/server.mjs';

const bench = path.join(path.dirname(roundsBinary), 'bench', 'audit_tree', 'rounds-bench-audit-tree');

// Complete subtrees of 2^8 leaves and more in a tree of n leaves.
function keptSubtrees(n) {
  let rows = 0;
  for (let level = 8; 2 ** level <= n; level++) rows += Math.floor(n / 2 ** level);
  return rows;
}

test('rounds-bench-audit-tree builds, reloads and grows the tree and every proof it makes verifies', { skip: !existsSync(bench) && `${bench} is not built` }, () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'rounds-bench-audit-tree-'));
  const dir = path.join(parent, 'trail');
  try {
    const r = spawnSync(bench, ['--records', '5000', '--proofs', '40', '--dir', dir], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^audit Merkle tree over 5000 records/m);
    assert.match(r.stdout, /build from the whole trail +[\d.]+ s/);
    assert.match(r.stdout, /load from the kept subtrees +[\d.]+ ms/);
    assert.match(r.stdout, /inclusion proof +p50 +[\d.]+ ms +p99 +[\d.]+ ms +\([\d.]+ hashes, 40 proofs\)/);
    // 5,000 records, then 1,000 more grown into the tree.
    const kept = Number(r.stdout.match(/kept subtrees (\d+) rows/)[1]);
    assert.equal(kept, keptSubtrees(6000));
    assert.deepEqual(readdirSync(parent), [], 'its folder is removed');

    const bad = spawnSync(bench, ['--records'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /usage: rounds-bench-audit-tree/);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
