// Raw HTTP/1.1 on a socket: request smuggling shapes are refused and the connection closed, and a
// client that never finishes its headers is cut off (slow-loris).
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RoundsServer } from '../lib/server.mjs';

let server;
test.before(async () => {
  server = new RoundsServer({ extraArgs: ['--header-timeout-seconds', '2'] });
  await server.start();
});
test.after(async () => { await server.stop(); server.cleanup(); });

// Sends raw bytes; resolves with everything the server sent until it closed (or a timeout).
function raw(bytes, { timeoutMs = 8000 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let data = '';
    const started = Date.now();
    const timer = setTimeout(() => { socket.destroy(); resolve({ data, closed: false, ms: Date.now() - started }); }, timeoutMs);
    socket.on('data', (d) => { data += d.toString(); });
    socket.on('close', () => { clearTimeout(timer); resolve({ data, closed: true, ms: Date.now() - started }); });
    socket.on('error', () => {});
    socket.write(bytes);
  });
}

test('Content-Length together with Transfer-Encoding is refused and the connection closed', async () => {
  const r = await raw('POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(r.data, /^HTTP\/1\.1 400/);
  assert.equal((r.data.match(/HTTP\/1\.1/g) || []).length, 1, 'the smuggled request was not answered');
  assert.ok(r.closed);
});

test('two different Content-Length headers are refused', async () => {
  const r = await raw('POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}');
  assert.match(r.data, /^HTTP\/1\.1 400/);
  assert.ok(r.closed);
});

test('a Transfer-Encoding that does not end in chunked is refused, and what follows it is never run', async () => {
  const smuggled = 'GET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n';
  for (const coding of ['gzip', 'identity', 'chunked, gzip', 'xchunked']) {
    const r = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${coding}\r\n\r\n${smuggled}`);
    assert.match(r.data, /^HTTP\/1\.1 400/, coding);
    assert.match(r.data, /ambiguous_framing/, coding);
    assert.equal((r.data.match(/HTTP\/1\.1/g) || []).length, 1, `${coding}: the smuggled request was not answered`);
    assert.ok(r.closed, coding);
  }
  // Chunked after another coding is still a coding this server does not implement.
  const r = await raw(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${smuggled}`);
  assert.match(r.data, /^HTTP\/1\.1 501/);
  assert.match(r.data, /unsupported_transfer_encoding/);
  assert.equal((r.data.match(/HTTP\/1\.1/g) || []).length, 1);
  assert.ok(r.closed);
  // Plain chunked bodies still work.
  const body = '{"username":"nobody","password":"wrong-password-1"}';
  const ok = await raw(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
  assert.match(ok.data, /^HTTP\/1\.1 401/);
});

test('the event stream is reached with a query string on its path as without one', async () => {
  const upgrade = (target) => raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', { timeoutMs: 3000 });
  const plain = (await upgrade('/api/v1/events')).data.split('\r\n')[0];
  const queried = (await upgrade('/api/v1/events?since=1')).data.split('\r\n')[0];
  assert.match(plain, /^HTTP\/1\.1 401/, 'no session: refused by the stream, not by the router');
  assert.equal(queried, plain);
});

test('a client that never finishes its headers is disconnected', async () => {
  const r = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', { timeoutMs: 8000 });
  assert.ok(r.closed, 'the server closed the connection');
  assert.ok(r.ms < 7000, `closed after ${r.ms} ms`);
});

test('keep-alive serves several requests on one connection', async () => {
  const r = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal((r.data.match(/HTTP\/1\.1 200/g) || []).length, 2);
});
