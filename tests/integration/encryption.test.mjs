// Encryption at rest against the real binary (security target S10): canary text sent through the
// API — a message body, a search for it, a display name, an attachment's bytes and name — appears
// in no file under the data folder, neither while the server runs (write-ahead log, shared memory,
// logs) nor after it stops, nor in a backup; the key file is owner-only; the server reads it all
// back after a restart; a database whose key file is gone is refused with a clear message.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, renameSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, RoundsServer } from '../lib/server.mjs';
import { startServer, createUsers, createSpace } from './fixtures.mjs';

const CANARY = 'Xylophonic marmalade canary 7719';
const NAME_CANARY = 'Quillfeather Bramblewick';
const FILE_CANARY = 'zanzibar-ledger-canary';

let server, admin, users, space;

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['ada', 'bea']);
  space = await createSpace(users.ada, { kind: 'channel', name: 'night shift', visibility: 'public', join_policy: 'open' });
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

// Every file under `folder` whose bytes hold one of `needles`, as "file: needle".
function filesHolding(folder, needles) {
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const info = statSync(full, { throwIfNoEntry: false });
      if (!info) continue;  // removed meanwhile (a checkpointed log)
      if (info.isDirectory()) {
        walk(full);
        continue;
      }
      const bytes = readFileSync(full);
      for (const needle of needles) {
        if (bytes.includes(Buffer.from(needle, 'utf8'))) found.push(`${path.relative(folder, full)}: ${needle}`);
      }
    }
  };
  walk(folder);
  return found;
}

const needles = [CANARY, 'Xylophonic', NAME_CANARY, FILE_CANARY];

test('nothing sent through the API is readable in the data folder, running, stopped or backed up', async () => {
  const key = path.join(server.dataDir, 'keys', 'database.key');
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.match(readFileSync(key, 'utf8'), /^[0-9a-f]{64}\n$/);

  const posted = await users.ada.post(`/api/v1/spaces/${space.id}/messages`, { body: `Handover: ${CANARY}` });
  assert.equal(posted.status, 201, posted.text);
  const renamed = await users.bea.patch('/api/v1/me', { display_name: NAME_CANARY });
  assert.equal(renamed.status, 200, renamed.text);
  const bytes = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.from(`${FILE_CANARY} `.repeat(40))]);
  const up = await users.ada.request('POST', `/api/v1/spaces/${space.id}/attachments?name=${FILE_CANARY}.png`, bytes,
    { raw: true, headers: { 'content-type': 'image/png' } });
  assert.equal(up.status, 201, up.text);
  const attached = await users.ada.post(`/api/v1/spaces/${space.id}/messages`, { body: '', attachment_ids: [up.body.id] });
  assert.equal(attached.status, 201, attached.text);
  const found = await users.bea.get('/api/v1/search?q=Xylophonic');
  assert.equal(found.status, 200, found.text);
  assert.equal(found.body.messages.length, 1, 'the search index holds the words');

  assert.deepEqual(filesHolding(server.dataDir, needles), [], 'while serving');

  const backupFile = path.join(server.dataDir, 'backup.db');
  const backup = runCli(['backup', '--to', backupFile], { dataDir: server.dataDir });
  assert.equal(backup.status, 0, backup.stderr);
  assert.deepEqual(filesHolding(server.dataDir, needles), [], 'with a backup beside it');

  await server.stop();
  assert.deepEqual(filesHolding(server.dataDir, needles), [], 'stopped');
  const check = runCli(['admin', 'database', 'check'], { dataDir: server.dataDir });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /\(encrypted\): ok/);

  // The backup is a database the server serves from, under the same key.
  const restored = mkdtempSync(path.join(tmpdir(), 'rounds-restored-'));
  try {
    renameSync(backupFile, path.join(restored, 'rounds.db'));
    const copy = runCli(['admin', 'database', 'check', '--database-key-file', key], { dataDir: restored });
    assert.equal(copy.status, 0, copy.stdout + copy.stderr);
  } finally {
    rmSync(restored, { recursive: true, force: true });
  }

  await server.start({ port: server.port });
  const page = await users.bea.get(`/api/v1/spaces/${space.id}/messages`);
  assert.equal(page.status, 200, page.text);
  assert.ok(page.body.items.some((m) => m.body === `Handover: ${CANARY}`));
  const file = await fetch(`${server.baseUrl}/api/v1/attachments/${up.body.id}`, { headers: users.bea.headers() });
  assert.equal(file.status, 200);
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), bytes);
});

test('a database whose key file is gone is refused with a message that says so', async () => {
  const other = new RoundsServer();
  try {
    other.bootstrapAdmin();
    const key = path.join(other.dataDir, 'keys', 'database.key');
    renameSync(key, key + '.away');
    const listed = runCli(['admin', 'user', 'list'], { dataDir: other.dataDir });
    assert.notEqual(listed.status, 0);
    assert.match(listed.stderr, /database key file .* cannot be read/);
    await assert.rejects(other.start(), 'the server does not start without it');
    renameSync(key + '.away', key);
    await other.start();
    const res = await other.client().get('/healthz');
    assert.equal(res.status, 200);
    await other.stop();
  } finally {
    other.cleanup();
  }
});
