// Uploads scanned by a real ClamAV daemon, started here with a signature database of its own (one
// signature, for the EICAR test file). The server is pointed at it by ROUNDS_ANTIVIRUS_ADDRESS:
// the test virus is refused with its signature and never downloadable, also inside a ZIP; a clean
// file is stored; with the daemon stopped, uploads are refused with 503 instead of stored unscanned.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, createUsers, createSpace, createOfficer, assignNewVersion } from './fixtures.mjs';

// Built from halves so that no scanner flags this file.
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const SIGNATURE = 'Rounds-Test-EICAR.UNOFFICIAL';
const png = (extra = '') => Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(32, 7), Buffer.from(extra)]);

let dir, clamd, server, admin, users, officer, space;

async function startClamd() {
  dir = mkdtempSync(path.join(tmpdir(), 'rounds-clamd-'));
  mkdirSync(path.join(dir, 'db'));
  const hex = Buffer.from('EICAR-STANDARD-ANTIVIRUS-TEST-FILE').toString('hex');
  writeFileSync(path.join(dir, 'db', 'rounds-test.ndb'), `Rounds-Test-EICAR:0:*:${hex}\n`);
  const socket = path.join(dir, 'clamd.sock');
  writeFileSync(path.join(dir, 'clamd.conf'),
    `Foreground yes\nLocalSocket ${socket}\nDatabaseDirectory ${path.join(dir, 'db')}\nLogFile ${path.join(dir, 'clamd.log')}\nStreamMaxLength 30M\n`);
  // Debian installs it in /usr/sbin, which is not on an ordinary user's PATH.
  const binary = existsSync('/usr/sbin/clamd') ? '/usr/sbin/clamd' : 'clamd';
  clamd = spawn(binary, ['-c', path.join(dir, 'clamd.conf')], { stdio: 'ignore' });
  const exited = new Promise((resolve) => { clamd.once('exit', resolve); clamd.once('error', resolve); });
  const deadline = Date.now() + 30_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline) throw new Error('clamd did not start (scripts/setup.sh installs clamav-daemon)');
    const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
    if (gone) throw new Error('clamd exited (scripts/setup.sh installs clamav-daemon)');
  }
  return socket;
}

// A ZIP archive holding one file, stored with deflate, as a user's archiver writes it.
function zip(name, content) {
  const data = deflateRawSync(Buffer.from(content));
  const crc = crc32(Buffer.from(content));
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14); local.writeUInt32LE(data.length, 18); local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const centralOffset = local.length + nameBytes.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12); end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test.before(async () => {
  const socket = await startClamd();
  ({ server, admin } = await startServer({ env: { ROUNDS_ANTIVIRUS_ADDRESS: socket, ROUNDS_ANTIVIRUS_TIMEOUT_SECONDS: '5' } }));
  users = await createUsers(server, admin, ['ada']);
  officer = await createOfficer(server, admin);
  // A space that takes images, text and ZIP archives.
  space = await createSpace(users.ada, { kind: 'channel', name: 'wound-care' });
  await assignNewVersion(officer, space.id, 'internal-community', (d) =>
    ({ ...d, attachments: { allowed: true, types: ['image/png', 'text/plain', 'application/zip'], max_bytes: 1 << 20 } }));
});

test.after(async () => {
  await server?.stop();
  server?.cleanup();
  if (clamd && clamd.exitCode === null) clamd.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const upload = (name, bytes, type) =>
  users.ada.request('POST', `/api/v1/spaces/${space.id}/attachments?name=${encodeURIComponent(name)}`, bytes,
    { raw: true, headers: { 'content-type': type } });

test('the test virus is refused wherever it hides, on the record, and clean files pass', async () => {
  for (const [name, bytes, type] of [
    ['notes.txt', Buffer.from(`handover\n${EICAR}\n`), 'text/plain'],
    ['scan.png', png(EICAR), 'image/png'],
    ['notes.zip', zip('notes.txt', `handover\n${EICAR}\n`), 'application/zip'],
  ]) {
    const res = await upload(name, bytes, type);
    assert.equal(res.status, 422, `${name}: ${res.text}`);
    assert.equal(res.body.code, 'attachment_malware');
    assert.match(res.body.detail, new RegExp(SIGNATURE.replace('.', '\\.')));
  }
  const refused = await officer.get('/api/v1/audit?action=attachment.malware');
  assert.equal(refused.status, 200, refused.text);
  assert.equal(refused.body.items.length, 3);
  assert.ok(refused.body.items.every((r) => r.outcome === 'denied' && r.reason === SIGNATURE));

  const clean = await upload('notes.txt', Buffer.from('handover at seven\n'), 'text/plain');
  assert.equal(clean.status, 201, clean.text);
  const cleanZip = await upload('notes.zip', zip('notes.txt', 'handover at seven\n'), 'application/zip');
  assert.equal(cleanZip.status, 201, cleanZip.text);
  const posted = await users.ada.post(`/api/v1/spaces/${space.id}/messages`, { body: 'notes', attachment_ids: [clean.body.id, cleanZip.body.id] });
  assert.equal(posted.status, 201, posted.text);
  assert.deepEqual(posted.body.attachments.map((a) => a.name), ['notes.txt', 'notes.zip']);
});

test('with the scanner gone, uploads are refused with 503 rather than stored unscanned', async () => {
  clamd.kill('SIGTERM');
  await new Promise((resolve) => (clamd.exitCode !== null ? resolve() : clamd.once('exit', resolve)));
  const res = await upload('scan.png', png(), 'image/png');
  assert.equal(res.status, 503, res.text);
  assert.equal(res.body.code, 'antivirus_unavailable');
  const page = await users.ada.get(`/api/v1/spaces/${space.id}/messages`);
  assert.equal(page.body.items.length, 1, 'only the clean post of the test before');
});
