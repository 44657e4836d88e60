// Upload bodies against the real binary. A body is the one thing a client can make the server hold
// in memory, up to max_attachment_bytes for an upload: so an upload's caller is authenticated from
// its headers before its body is read, and the bodies being read or handled at once are bounded
// by max_body_bytes_in_flight (each reserves its declared length first; a request that does not
// fit is refused with 503 and Retry-After, and the rest are stored whole).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { startServer, createUsers, createSpace } from './fixtures.mjs';

const MiB = 1024 * 1024;
const MAX = 10 * MiB;  // the largest file the space's template takes
const BUDGET = 24 * MiB;
let server, admin, users, channel;

test.before(async () => {
  ({ server, admin } = await startServer({
    env: { ROUNDS_MAX_ATTACHMENT_BYTES: String(MAX), ROUNDS_MAX_BODY_BYTES_IN_FLIGHT: String(BUDGET) },
  }));
  users = await createUsers(server, admin, ['uma']);
  channel = await createSpace(users.uma, { kind: 'channel', name: 'radiology', visibility: 'private', join_policy: 'invite' });
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

const rssKiB = () => Number(fs.readFileSync(`/proc/${server.process.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);

function png(size, seed) {
  const bytes = Buffer.alloc(size);
  Buffer.from('\x89PNG\r\n\x1a\n', 'latin1').copy(bytes);
  for (let i = 8; i < size; i += 1) bytes[i] = (i * 7919 + seed) % 251;
  return bytes;
}

// An upload over a raw socket: the header at once, then the body when and as far as the test says.
// `answer` settles with the status and body of whatever the server answers, whenever it does.
function rawUpload({ length, token = users.uma.token, name = 'scan.png' }) {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});  // a refused upload's socket may be reset while the test writes
  const head = [
    `POST /api/v1/spaces/${channel.id}/attachments?name=${name} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: image/png',
    `Content-Length: ${length}`,
    ...(token ? [`Authorization: Bearer ${token}`] : []),
    '', '',
  ].join('\r\n');
  socket.write(head);
  let text = '';
  const answer = new Promise((resolve) => {
    let done = false;
    const settle = () => {
      if (done) return;
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(text.slice(9, 12));
      const headers = text.slice(0, end).toLowerCase();
      const size = Number((headers.match(/content-length: (\d+)/) || [])[1] || 0);
      if (text.length < end + 4 + size) return;
      done = true;
      const retryAfter = (headers.match(/retry-after: (\d+)/) || [])[1];
      resolve({ status, retryAfter, body: JSON.parse(text.slice(end + 4, end + 4 + size) || '{}') });
    };
    socket.on('data', (chunk) => { text += chunk.toString('latin1'); settle(); });
    socket.on('close', () => { if (!done) resolve({ status: 0, body: {} }); });
  });
  const send = (bytes) => new Promise((resolve) => { socket.write(bytes, () => resolve()); });
  return { socket, answer, send };
}

// Settles with `promise`, or with 'pending' if it has not settled within `ms`.
const within = (promise, ms) => Promise.race([promise, new Promise((r) => setTimeout(() => r('pending'), ms))]);

test('an upload without a session is refused from its header, before its body is sent', async () => {
  const anonymous = rawUpload({ length: MAX, token: null });
  const got = await within(anonymous.answer, 5000);
  assert.notEqual(got, 'pending', 'answered without waiting for the 10 MiB body');
  assert.equal(got.status, 401);
  assert.equal(got.body.code, 'unauthenticated');
  anonymous.socket.destroy();

  const forged = rawUpload({ length: MAX, token: 'not-a-session' });
  const refused = await within(forged.answer, 5000);
  assert.notEqual(refused, 'pending');
  assert.equal(refused.status, 401);
  forged.socket.destroy();
});

test('eight anonymous uploads sending 10 MiB each leave the server no larger', async () => {
  const before = rssKiB();
  const uploads = Array.from({ length: 8 }, () => rawUpload({ length: MAX, token: null }));
  // Each sends all but the last byte (or as much as the server takes before closing).
  const body = Buffer.alloc(MAX - 1, 0x41);
  await Promise.all(uploads.map((u) => within(u.send(body), 3000)));
  const grown = rssKiB() - before;
  for (const u of uploads) u.socket.destroy();
  assert.ok(grown < 16 * 1024, `the server grew by ${grown} KiB while anonymous bodies arrived`);
});

test('bodies beyond max_body_bytes_in_flight are refused with 503 and Retry-After; the rest are stored whole', async () => {
  const size = MAX;
  const first = png(size, 1);
  const second = png(size, 2);
  const a = rawUpload({ length: size, name: 'a.png' });
  await a.send(first.subarray(0, 5 * MiB));
  const b = rawUpload({ length: size, name: 'b.png' });
  await b.send(second.subarray(0, MiB));
  // 20 of 24 MiB are reserved by the two bodies still arriving: a third does not fit.
  const c = rawUpload({ length: size, name: 'c.png' });
  const busy = await within(c.answer, 5000);
  assert.notEqual(busy, 'pending', 'refused at once, not queued behind the others');
  assert.equal(busy.status, 503);
  assert.equal(busy.body.code, 'server_busy');
  assert.ok(Number(busy.retryAfter) >= 1, 'says when to try again');
  c.socket.destroy();
  // A small request still fits beside them.
  const small = await users.uma.request('POST', `/api/v1/spaces/${channel.id}/attachments?name=small.png`, png(4096, 3),
    { raw: true, headers: { 'content-type': 'image/png' } });
  assert.equal(small.status, 201, small.text);

  await a.send(first.subarray(5 * MiB));
  const storedA = await a.answer;
  assert.equal(storedA.status, 201, JSON.stringify(storedA.body));
  // Once the first is handled, its reservation is returned: another large upload fits.
  const d = rawUpload({ length: size, name: 'd.png' });
  const third = png(size, 4);
  await d.send(third);
  const storedD = await d.answer;
  assert.equal(storedD.status, 201, JSON.stringify(storedD.body));
  await b.send(second.subarray(MiB));
  const storedB = await b.answer;
  assert.equal(storedB.status, 201, JSON.stringify(storedB.body));
  for (const u of [a, b, d]) u.socket.destroy();

  for (const [stored, bytes] of [[storedA, first], [storedB, second], [storedD, third]]) {
    assert.equal(stored.body.size, bytes.length);
    assert.equal(stored.body.sha256, crypto.createHash('sha256').update(bytes).digest('hex'));
  }
  const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
  assert.match(metrics, /rounds_http_bodies_refused_busy_total 1\b/);
});

test('a setting too small for one allowed body stops the server at start with a clear error', async () => {
  const { RoundsServer } = await import('../lib/server.mjs');
  const bad = new RoundsServer({ env: { ROUNDS_MAX_ATTACHMENT_BYTES: String(25 * MiB), ROUNDS_MAX_BODY_BYTES_IN_FLIGHT: String(MAX) } });
  try {
    await assert.rejects(bad.start(), /max_body_bytes_in_flight/);
  } finally {
    await bad.stop().catch(() => {});
    bad.cleanup();
  }
});
