// A server that stops cleanly signs the trail's head as its last act, with the store still open:
// what it wrote since its last periodic checkpoint (60 s by default) is anchored, not left to the
// chain alone, and a proof of its newest record is at hand at once.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../lib/server.mjs';
import { startServer, createUsers, createAccount } from './fixtures.mjs';

test('a clean stop signs the head, with its Merkle root, before the store closes', async () => {
  // Checkpoints by time or count far off: only the start and the stop sign.
  const { server, admin } = await startServer({ env: { ROUNDS_AUDIT_CHECKPOINT_SECONDS: '3600' } });
  try {
    await createUsers(server, admin, ['sten', 'ulla']);
    // Over 512 records, so that the last checkpoint's tree keeps subtrees of 256 leaves: keeping
    // them is a write, and a store closed before the final checkpoint refused it.
    const officer = await createAccount(server, admin, 'vera', { job_role: 'Privacy Officer', is_compliance: true });
    for (let i = 0; i < 520; i++) assert.equal((await officer.get('/api/v1/audit?limit=1')).status, 200);
    await server.stop();
    assert.doesNotMatch(server.logs(), /audit_checkpoint_failed/);
    const lines = readFileSync(path.join(server.dataDir, 'audit', 'checkpoints.log'), 'utf8').trim().split('\n');
    const [seq, , , , root] = lines.at(-1).split(' ');
    const verified = runCli(['audit', 'verify'], { dataDir: server.dataDir });
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    const records = Number(verified.stdout.match(/records: (\d+)/)[1]);
    assert.ok(records > 512, `${records} records`);
    assert.equal(Number(seq), records, 'the last checkpoint is the trail\'s head');
    assert.match(root, /^[0-9a-f]{64}$/);
    // The newest record is provable against it.
    const proof = runCli(['audit', 'prove', '--seq', String(records)], { dataDir: server.dataDir });
    assert.equal(proof.status, 0, proof.stderr);
    const document = JSON.parse(proof.stdout);
    assert.equal(document.tree_size, records);
    assert.equal(document.verified, true);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
