// Large downloads against the real binary: a file is stored in pieces of 256 KiB and sent a piece at
// a time, so the server holds no more than a piece per download however slowly its reader takes
// it; the bytes arrive whole and in order, HEAD announces the same length, and a file deleted
// mid-download ends that download short instead of sending anything else.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { startServer, createUsers, createSpace, addMember } from './fixtures.mjs';

const MiB = 1024 * 1024;
let server, admin, users, channel;

test.before(async () => {
  ({ server, admin } = await startServer({ env: { ROUNDS_MAX_ATTACHMENT_BYTES: String(25 * MiB) } }));
  users = await createUsers(server, admin, ['dov', 'eli']);
  channel = await createSpace(users.dov, { kind: 'channel', name: 'imaging', visibility: 'private', join_policy: 'invite' });
  await addMember(users.dov, channel.id, users.eli.user.id);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

// A PNG signature and `size` bytes of a pattern that differs in every piece.
function bigPng(size) {
  const bytes = Buffer.alloc(size);
  Buffer.from('\x89PNG\r\n\x1a\n', 'latin1').copy(bytes);
  for (let i = 8; i < size; i += 1) bytes[i] = (i * 7919 + (i >> 18)) % 251;
  return bytes;
}

async function postFile(name, bytes) {
  const up = await users.dov.request('POST', `/api/v1/spaces/${channel.id}/attachments?name=${name}`, bytes,
    { raw: true, headers: { 'content-type': 'image/png' } });
  assert.equal(up.status, 201, up.text);
  const posted = await users.dov.post(`/api/v1/spaces/${channel.id}/messages`, { body: '', attachment_ids: [up.body.id] });
  assert.equal(posted.status, 201, posted.text);
  return { id: up.body.id, messageId: posted.body.id };
}

const rssKiB = () => Number(fs.readFileSync(`/proc/${server.process.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);

// Starts a download and stops reading once the headers and some bytes are in.
function pausedDownload(id) {
  return new Promise((resolve, reject) => {
    const url = new URL(`${server.baseUrl}/api/v1/attachments/${id}`);
    const req = http.get(url, { headers: { authorization: `Bearer ${users.eli.token}` } }, (res) => {
      let received = 0;
      let settled = false;
      const ended = new Promise((done) => {
        res.on('end', () => done({ received, complete: true }));
        res.on('aborted', () => done({ received, complete: false }));
        res.on('error', () => done({ received, complete: false }));
        res.on('close', () => done({ received, complete: res.complete }));
      });
      res.on('data', (chunk) => {
        received += chunk.length;
        if (!settled) {
          settled = true;
          res.pause();
          resolve({ res, req, headers: res.headers, ended, received: () => received });
        }
      });
    });
    req.on('error', reject);
  });
}

test('a large file comes back whole, and HEAD announces its length', async () => {
  const bytes = bigPng(3 * MiB + 12345);
  const { id } = await postFile('mri.png', bytes);
  const res = await fetch(`${server.baseUrl}/api/v1/attachments/${id}`, { headers: { authorization: `Bearer ${users.eli.token}` } });
  assert.equal(res.status, 200);
  assert.equal(Number(res.headers.get('content-length')), bytes.length);
  const got = Buffer.from(await res.arrayBuffer());
  assert.equal(got.length, bytes.length);
  assert.ok(got.equals(bytes), 'the same bytes in the same order');
  assert.equal(res.headers.get('x-content-sha256'), crypto.createHash('sha256').update(bytes).digest('hex'));
  const head = await users.eli.request('HEAD', `/api/v1/attachments/${id}`);
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), bytes.length);
  assert.equal(head.text, '');
  // The connection is still good for the next request.
  assert.equal((await users.eli.get(`/api/v1/spaces/${channel.id}/messages`)).status, 200);
});

test('slow readers of a large file cost the server a piece each, not the file', async (t) => {
  const size = 10 * MiB - 1000;
  const { id } = await postFile('ct-series.png', bigPng(size));
  // One whole download first, so that the heap has seen a download before the baseline.
  const whole = await fetch(`${server.baseUrl}/api/v1/attachments/${id}`, { headers: { authorization: `Bearer ${users.eli.token}` } });
  assert.equal((await whole.arrayBuffer()).byteLength, size);
  const before = rssKiB();
  const readers = [];
  for (let i = 0; i < 8; i += 1) readers.push(await pausedDownload(id));
  await new Promise((r) => setTimeout(r, 500));
  const grown = rssKiB() - before;
  t.diagnostic(`server memory grew by ${grown} KiB for 8 paused downloads of ${size} bytes`);
  // Held whole, eight downloads of 10 MiB that their readers have barely started hold 80 MiB until
  // they finish; a piece each is 2 MiB.
  assert.ok(grown < 24 * 1024, `server memory grew by ${grown} KiB for 8 paused downloads of ${size} bytes`);
  // Resumed, every one completes with every byte.
  const results = await Promise.all(readers.map((r) => { r.res.resume(); return r.ended; }));
  for (const result of results) {
    assert.equal(result.complete, true);
    assert.equal(result.received, size);
  }
});

test('a file deleted mid-download ends that download short', async () => {
  const size = 10 * MiB - 1000;
  const { id, messageId } = await postFile('deleted.png', bigPng(size));
  const reader = await pausedDownload(id);
  assert.equal(Number(reader.headers['content-length']), size);
  assert.equal((await users.dov.del(`/api/v1/messages/${messageId}`)).status, 204);
  reader.res.resume();
  const result = await reader.ended;
  assert.equal(result.complete, false, 'the body ends before its announced length');
  assert.ok(result.received < size, `received ${result.received} of ${size}`);
  assert.equal((await users.eli.get(`/api/v1/attachments/${id}`)).status, 404);
});
