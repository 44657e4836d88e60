// Upload bodies against the real binary. A body is the one thing a client can make the server hold
// in memory, up to max_attachment_bytes for an upload: so an upload's caller is authenticated from
// its headers before its body is read, and the bodies being read or handled at once are bounded
// by max_body_bytes_in_flight (each holds the bytes it has sent; a body that no longer fits is
// refused with 503 and Retry-After, and the rest are stored whole).
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
// With `expect`, the header asks to be told to send the body (Expect: 100-continue); `continued`
// then says whether the server did before its answer.
function rawUpload({ length, token = users.uma.token, name = 'scan.png', expect = false }) {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});  // a refused upload's socket may be reset while the test writes
  const head = [
    `POST /api/v1/spaces/${channel.id}/attachments?name=${name} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: image/png',
    `Content-Length: ${length}`,
    ...(token ? [`Authorization: Bearer ${token}`] : []),
    ...(expect ? ['Expect: 100-continue'] : []),
    '', '',
  ].join('\r\n');
  socket.write(head);
  let text = '';
  let continued = false;
  let onContinue = () => {};
  const told = new Promise((resolve) => { onContinue = resolve; });
  const answer = new Promise((resolve) => {
    let done = false;
    const settle = () => {
      if (done) return;
      while (text.startsWith('HTTP/1.1 1') && text.includes('\r\n\r\n')) {  // an interim answer
        continued = continued || text.startsWith('HTTP/1.1 100');
        text = text.slice(text.indexOf('\r\n\r\n') + 4);
        onContinue(true);
      }
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(text.slice(9, 12));
      const headers = text.slice(0, end).toLowerCase();
      const size = Number((headers.match(/content-length: (\d+)/) || [])[1] || 0);
      if (text.length < end + 4 + size) return;
      done = true;
      const retryAfter = (headers.match(/retry-after: (\d+)/) || [])[1];
      resolve({ status, retryAfter, continued, body: JSON.parse(text.slice(end + 4, end + 4 + size) || '{}') });
    };
    socket.on('data', (chunk) => { text += chunk.toString('latin1'); settle(); });
    socket.on('close', () => { if (!done) resolve({ status: 0, body: {} }); });
  });
  const send = (bytes) => new Promise((resolve) => { socket.write(bytes, () => resolve()); });
  return { socket, answer, send, told };
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

test('a client that waits for 100 Continue is told to send once its header passes, and refused without it otherwise', async () => {
  const bytes = png(64 * 1024, 6);
  const waiting = rawUpload({ length: bytes.length, name: 'waits.png', expect: true });
  assert.equal(await within(waiting.told, 5000), true, 'told to go on before it sent anything');
  await waiting.send(bytes);
  const stored = await waiting.answer;
  assert.equal(stored.status, 201, JSON.stringify(stored.body));
  assert.equal(stored.body.sha256, crypto.createHash('sha256').update(bytes).digest('hex'));
  waiting.socket.destroy();

  const anonymous = rawUpload({ length: bytes.length, token: null, expect: true });
  const refused = await within(anonymous.answer, 5000);
  assert.notEqual(refused, 'pending');
  assert.equal(refused.status, 401);
  assert.equal(refused.continued, false, 'never told to send a body it would not be let in with');
  anonymous.socket.destroy();
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

const held = async () => Number((await (await fetch(`${server.baseUrl}/metrics`)).text())
  .match(/rounds_http_body_bytes_held (\d+)/)[1]);

async function untilHeld(predicate) {
  for (let i = 0; i < 200; i += 1) {
    const bytes = await held();
    if (predicate(bytes)) return bytes;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`rounds_http_body_bytes_held stayed at ${await held()}`);
}

test('a body that no longer fits max_body_bytes_in_flight is refused with 503 and Retry-After; the rest are stored whole', async () => {
  const size = MAX;
  const first = png(size, 1);
  const second = png(size, 2);
  // A client that announces a large body holds only what it has sent.
  const a = rawUpload({ length: size, name: 'a.png' });
  await a.send(first.subarray(0, MiB));
  assert.ok(await untilHeld((bytes) => bytes >= MiB) < 2 * MiB, 'an announced 10 MiB holds the 1 MiB sent');
  await a.send(first.subarray(MiB, size - 1));
  const b = rawUpload({ length: size, name: 'b.png' });
  await b.send(second.subarray(0, size - 1));
  await untilHeld((bytes) => bytes >= 2 * (size - 1));
  // 20 of 24 MiB are held by the two bodies still arriving: a third does not fit.
  const c = rawUpload({ length: size, name: 'c.png' });
  c.send(png(size, 5));
  const busy = await within(c.answer, 5000);
  assert.notEqual(busy, 'pending', 'refused at once, not queued behind the others');
  assert.equal(busy.status, 503);
  assert.equal(busy.body.code, 'server_busy');
  assert.ok(Number(busy.retryAfter) >= 1, 'says when to try again');
  // The refused body gave back what it had taken before it was answered, though its client is
  // still connected and sending: a small request still fits beside the other two.
  assert.equal(await held(), 2 * (size - 1));
  const small = await users.uma.request('POST', `/api/v1/spaces/${channel.id}/attachments?name=small.png`, png(4096, 3),
    { raw: true, headers: { 'content-type': 'image/png' } });
  assert.equal(small.status, 201, small.text);
  c.socket.destroy();

  await a.send(first.subarray(size - 1));
  const storedA = await a.answer;
  assert.equal(storedA.status, 201, JSON.stringify(storedA.body));
  // Once the first is answered, its bytes are returned: another large upload fits.
  const d = rawUpload({ length: size, name: 'd.png' });
  const third = png(size, 4);
  await d.send(third);
  const storedD = await d.answer;
  assert.equal(storedD.status, 201, JSON.stringify(storedD.body));
  await b.send(second.subarray(size - 1));
  const storedB = await b.answer;
  assert.equal(storedB.status, 201, JSON.stringify(storedB.body));
  for (const u of [a, b, d]) u.socket.destroy();
  assert.equal(await untilHeld((bytes) => bytes === 0), 0, 'every body returned what it held');

  for (const [stored, bytes] of [[storedA, first], [storedB, second], [storedD, third]]) {
    assert.equal(stored.body.size, bytes.length);
    assert.equal(stored.body.sha256, crypto.createHash('sha256').update(bytes).digest('hex'));
  }
  const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
  assert.match(metrics, /rounds_http_bodies_refused_busy_total 1\b/);
  assert.match(metrics, new RegExp(`rounds_http_body_bytes_limit ${BUDGET}\\b`));
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
