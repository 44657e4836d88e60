// The audit trail's witness off the host: the server sends every checkpoint it signs to a
// collector (here a TCP listener reading RFC 6587 octet-counted syslog frames, as rsyslog's imtcp
// does), keeps sending across the collector's restart, and `rounds audit verify --witness` checks
// the trail against the collector's copy, which catches a tail cut from the database together with
// the checkpoint lines above the cut, where the host's own files no longer can.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../lib/server.mjs';
import { startServer, createUsers } from './fixtures.mjs';

const MARKER = 'rounds-audit-checkpoint ';

// A syslog collector over TCP with octet counting; `messages` grows as frames arrive.
class Collector {
  constructor() { this.messages = []; this.sockets = new Set(); }
  async listen(port = 0) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const space = pending.indexOf(0x20);
          if (space < 0) break;
          const length = Number(pending.subarray(0, space).toString());
          if (pending.length < space + 1 + length) break;
          this.messages.push(pending.subarray(space + 1, space + 1 + length).toString());
          pending = pending.subarray(space + 1 + length);
        }
      });
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
    });
    await new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = this.server.address().port;
  }
  async close() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
  checkpoints() { return this.messages.filter((m) => m.includes(MARKER)).map((m) => m.slice(m.indexOf(MARKER) + MARKER.length)); }
  async waitFor(predicate, what) {
    for (let i = 0; i < 200; i++) {
      if (predicate()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`timed out waiting for ${what}: ${JSON.stringify(this.messages)}`);
  }
}

const seqOf = (line) => Number(line.split(' ')[0]);

test('every checkpoint reaches the collector, and verification against its copy catches a cut tail', async () => {
  const collector = new Collector();
  await collector.listen();
  const { server, admin } = await startServer({
    env: { ROUNDS_AUDIT_CHECKPOINT_SECONDS: '1', ROUNDS_DATABASE_ENCRYPTION: 'false', ROUNDS_AUDIT_WITNESS: `127.0.0.1:${collector.port}` },
  });
  try {
    // The head the server starts from leaves the host at once.
    await collector.waitFor(() => collector.checkpoints().length >= 1, 'the first checkpoint');
    const first = collector.messages[0];
    assert.match(first, /^<85>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ rounds \d+ checkpoint - rounds-audit-checkpoint /);
    const metrics = (await server.client().get('/metrics')).text;
    assert.match(metrics, /^rounds_audit_witness_connected 1$/m);
    assert.match(metrics, /^rounds_audit_witness_dropped_total 0$/m);

    // The collector restarts: what is signed meanwhile arrives once it is back.
    const before = collector.checkpoints().length;
    await collector.close();
    await createUsers(server, admin, ['uma', 'vik']);
    await new Promise((r) => setTimeout(r, 1500));  // a checkpoint is signed while it is down
    await collector.listen(collector.port);
    await collector.waitFor(() => collector.checkpoints().length > before, 'the checkpoints signed while it was down');
    await createUsers(server, admin, ['wen']);
    const heads = collector.checkpoints().length;
    await collector.waitFor(() => collector.checkpoints().length > heads, 'a checkpoint of the latest records');
  } finally {
    await server.stop();
  }
  // The shutdown's checkpoint too: the collector holds every line of the checkpoint file.
  const checkpointFile = path.join(server.dataDir, 'audit', 'checkpoints.log');
  const local = readFileSync(checkpointFile, 'utf8').trim().split('\n');
  await collector.waitFor(() => local.every((line) => collector.checkpoints().includes(line)), 'every checkpoint of the file');
  await collector.close();
  const witnessFile = path.join(server.dataDir, 'collector.log');
  writeFileSync(witnessFile, collector.messages.map((m) => `Dec  6 05:00:00 ward-host ${m}`).join('\n') + '\n');

  const ok = runCli(['audit', 'verify', '--witness', witnessFile], { dataDir: server.dataDir });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const checked = Number(ok.stdout.match(/checkpoints: (\d+)/)[1]);
  assert.ok(checked >= local.length + collector.checkpoints().length, ok.stdout);

  // Someone with the host cuts the trail after an earlier checkpoint, and the checkpoint lines
  // above the cut with it (and trims the search indexes): the host's own files agree again.
  const seqs = [...new Set(local.map(seqOf))].filter((s) => s > 0).sort((a, b) => a - b);
  assert.ok(seqs.length >= 3, `checkpoints at several heads: ${seqs}`);
  const cut = seqs[seqs.length - 2];
  const db = path.join(server.dataDir, 'rounds.db');
  const sql = spawnSync('sqlite3', [db,
    'DROP TRIGGER audit_log_no_delete; ' +
    `DELETE FROM audit_log WHERE seq > ${cut}; DELETE FROM audit_index_actor WHERE seq > ${cut}; ` +
    `DELETE FROM audit_index_object WHERE seq > ${cut}; UPDATE audit_index_state SET indexed_seq = min(indexed_seq, ${cut});`],
  { encoding: 'utf8' });
  assert.equal(sql.status, 0, sql.stderr);
  writeFileSync(checkpointFile, local.filter((line) => seqOf(line) <= cut).join('\n') + '\n');
  const onHost = runCli(['audit', 'verify'], { dataDir: server.dataDir });
  assert.equal(onHost.status, 0, 'the host alone cannot tell: ' + onHost.stdout + onHost.stderr);
  const witnessed = runCli(['audit', 'verify', '--witness', witnessFile], { dataDir: server.dataDir });
  assert.equal(witnessed.status, 1, witnessed.stdout + witnessed.stderr);
  assert.match(witnessed.stdout, /TAMPERED: .*records were removed/);

  // A line of the collector's file that is not a checkpoint is named, not skipped.
  writeFileSync(witnessFile, `Dec  6 05:00:00 ward-host ${MARKER}12 not-a-hash\n`);
  const bad = runCli(['audit', 'verify', '--witness', witnessFile], { dataDir: server.dataDir });
  assert.equal(bad.status, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /Line 1 of .* does not parse/);
  server.cleanup();
});
