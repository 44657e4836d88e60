// The server around the API: static files from a web root of our own (types, ETag/304, HEAD, the
// single-page-app fallback, nothing outside the root), method and header rules, the proxy and
// metrics boundary, and a graceful shutdown.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { RoundsServer, ADMIN, roundsBinary } from '../lib/server.mjs';
import { startServer } from './fixtures.mjs';

const webRoot = mkdtempSync(path.join(tmpdir(), 'rounds-web-'));
const INDEX = '<!doctype html><html><head><title>Rounds test app</title></head><body>app</body></html>';
mkdirSync(path.join(webRoot, 'site', 'assets'), { recursive: true });
writeFileSync(path.join(webRoot, 'site', 'index.html'), INDEX);
writeFileSync(path.join(webRoot, 'site', 'assets', 'app-1234.js'), 'console.log("app");');
writeFileSync(path.join(webRoot, 'site', 'assets', 'app-1234.css'), 'body{color:black}');
writeFileSync(path.join(webRoot, 'site', 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
writeFileSync(path.join(webRoot, 'site', '.env'), 'SECRET_IN_HIDDEN_FILE');
writeFileSync(path.join(webRoot, 'outside.txt'), 'SECRET_OUTSIDE_THE_ROOT');
symlinkSync(path.join(webRoot, 'outside.txt'), path.join(webRoot, 'site', 'assets', 'link.txt'));

let server;
test.before(async () => {
  server = new RoundsServer({ extraArgs: ['--web-root', path.join(webRoot, 'site')] });
  await server.start();
});
test.after(async () => {
  await server.stop();
  server.cleanup();
  rmSync(webRoot, { recursive: true, force: true });
});

// Raw bytes on a socket, for paths fetch() would normalize.
function rawGet(target) {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => { data += d.toString(); });
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

test('static files: types with charset, ETag and 304, HEAD, immutable assets', async () => {
  const cases = [
    ['/', 'text/html; charset=utf-8'],
    ['/index.html', 'text/html; charset=utf-8'],
    ['/assets/app-1234.js', 'text/javascript; charset=utf-8'],
    ['/assets/app-1234.css', 'text/css; charset=utf-8'],
    ['/favicon.svg', 'image/svg+xml'],
  ];
  for (const [url, type] of cases) {
    const res = await fetch(server.baseUrl + url);
    assert.equal(res.status, 200, url);
    assert.equal(res.headers.get('content-type'), type, url);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const etag = res.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]+"$/);
    const again = await fetch(server.baseUrl + url, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304, `${url} revalidates`);
    assert.equal(await again.text(), '');
  }
  const asset = await fetch(server.baseUrl + '/assets/app-1234.js');
  assert.match(asset.headers.get('cache-control'), /immutable/);
  const index = await fetch(server.baseUrl + '/');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const head = await fetch(server.baseUrl + '/index.html', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), INDEX.length);
  assert.equal(await head.text(), '');
});

test('the single-page app answers its own routes; missing assets and API paths are 404', async () => {
  for (const url of ['/spaces/12', '/people', '/search?q=x']) {
    const res = await fetch(server.baseUrl + url);
    assert.equal(res.status, 200, url);
    assert.equal(await res.text(), INDEX);
  }
  const missing = await fetch(server.baseUrl + '/assets/nope-999.js');
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type'), /application\/problem\+json; charset=utf-8/);
  const api = await fetch(server.baseUrl + '/api/v1/nope');
  assert.equal(api.status, 404);
  assert.equal((await api.json()).code, 'not_found');
  const post = await fetch(server.baseUrl + '/index.html', { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('nothing outside the web root or hidden is served, however the path is spelled', async () => {
  const targets = ['/../outside.txt', '/%2e%2e/outside.txt', '/assets/..%2f..%2foutside.txt', '/assets/%2e%2e%2f%2e%2e%2foutside.txt',
    '/.env', '/%2eenv', '/assets/link.txt', '/assets%5c..%5c..%5coutside.txt', '/index.html%00.js', '/%00', '/..', '//etc/passwd'];
  for (const target of targets) {
    const text = await rawGet(target);
    const status = Number(text.slice(9, 12));
    assert.ok(!text.includes('SECRET_'), `${target} leaked a file`);
    assert.ok([200, 400, 404].includes(status), `${target}: ${status}`);
    if (status === 200) assert.ok(text.includes('Rounds test app'), `${target} may only fall back to the app`);
    assert.match(text, /content-security-policy: /i, `${target} has the security headers`);
  }
});

test('405 carries Allow; problems carry their own status and a charset', async () => {
  const res = await fetch(server.baseUrl + '/api/v1/spaces', { method: 'DELETE' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET, HEAD, POST');
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const body = await res.json();
  assert.equal(body.status, 405);
  assert.equal(body.code, 'method_not_allowed');
  const upgrade = await fetch(server.baseUrl + '/api/v1/events');
  assert.equal(upgrade.status, 401, 'the events endpoint needs a session before anything else');
});

test('CSP names the page\'s own WebSocket origin and nothing else', async () => {
  const res = await fetch(server.baseUrl + '/');
  const csp = res.headers.get('content-security-policy');
  const connect = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src'));
  assert.equal(connect, `connect-src 'self' ws://127.0.0.1:${server.port} wss://127.0.0.1:${server.port}`);
  for (const directive of ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"]) {
    assert.ok(csp.includes(directive), directive);
  }
  const injected = await rawGet('/');
  assert.ok(!/connect-src[^\r\n]*evil/.test(injected));
});

test('a Host header cannot inject into the CSP', async () => {
  const text = await new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => { data += d.toString(); });
    socket.on('close', () => resolve(data));
    socket.write('GET / HTTP/1.1\r\nHost: x; script-src *\r\nConnection: close\r\n\r\n');
  });
  const csp = text.split('\r\n').find((l) => /^content-security-policy:/i.test(l));
  assert.ok(csp, 'the header is there');
  assert.ok(!csp.includes('script-src *'));
});

test('a spoofed X-Forwarded-For is ignored without trust_proxy', async () => {
  const res = await fetch(server.baseUrl + '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(res.status, 200, 'the loopback peer still counts');
  assert.match(await res.text(), /rounds_http_requests_total/);
});

test('behind a trusted proxy the forwarded address counts: /metrics is for loopback only', async () => {
  const proxied = new RoundsServer({ extraArgs: ['--trust-proxy'] });
  await proxied.start();
  try {
    const outside = await fetch(proxied.baseUrl + '/metrics', { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' } });
    assert.equal(outside.status, 404);
    const local = await fetch(proxied.baseUrl + '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9, 127.0.0.1' } });
    assert.equal(local.status, 200, 'the last hop is the one the proxy added');
    const garbage = await fetch(proxied.baseUrl + '/metrics', { headers: { 'x-forwarded-for': 'not an address' } });
    assert.equal(garbage.status, 200, 'an unparsable header falls back to the peer');
  } finally {
    await proxied.stop();
    proxied.cleanup();
  }
});

test('an https public origin: __Host- Secure cookie, HSTS, wss-only CSP, and only configured WebSocket origins', async () => {
  const { server: s, admin } = await startServer({
    extraArgs: ['--public-origin', 'https://rounds.example.org', '--allowed-origin', 'https://wall.example.org'],
  });
  try {
    const login = await fetch(s.baseUrl + '/api/v1/auth/login', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password }),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie');
    assert.match(cookie, /^__Host-rounds_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure/);
    assert.ok(!/Domain=/i.test(cookie), '__Host- cookies carry no Domain');
    assert.match(login.headers.get('strict-transport-security'), /max-age=31536000; includeSubDomains/);
    const csp = login.headers.get('content-security-policy');
    assert.match(csp, /connect-src 'self' wss:\/\/rounds\.example\.org;/);
    const browser = s.client();
    browser.cookie = cookie.split(';')[0];
    browser.csrf = (await login.json()).csrf_token;
    assert.equal((await browser.get('/api/v1/me')).status, 200);
    const ok = await browser.openEvents({ origin: 'https://rounds.example.org' });
    await ok.close();
    const wall = await browser.openEvents({ origin: 'https://wall.example.org' });
    await wall.close();
    // The Host-derived origin no longer counts once the public origin is configured.
    await assert.rejects(browser.openEvents({ origin: s.baseUrl }), (e) => e.statusCode === 403);
    await assert.rejects(admin.openEvents({ origin: 'https://evil.example' }), (e) => e.statusCode === 403);
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('SIGTERM: in-flight requests finish, sockets get 1001, the process exits 0', async () => {
  const { server: s, admin } = await startServer();
  try {
    const stream = await admin.openEvents();
    stream.send({ type: 'resume', cursors: {} });
    await stream.waitFor((f) => f.type === 'resumed');
    // A sign-in spends tens of milliseconds hashing: it is in flight when the signal lands.
    const login = fetch(s.baseUrl + '/api/v1/auth/login', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password, bearer: true }),
    });
    await new Promise((r) => setTimeout(r, 15));
    s.process.kill('SIGTERM');
    const res = await login;
    assert.equal(res.status, 200, 'the in-flight request was answered');
    assert.ok((await res.json()).token);
    const closed = await stream.closed;
    assert.equal(closed.code, 1001);
    const exit = await s.exited;
    assert.equal(exit.code, 0);
    const lines = s.logs().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.event === 'draining'));
    assert.ok(lines.some((l) => l.event === 'stopped'));
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test("the clock's discipline is on /metrics and in the log from the start (audit times are its times)", async () => {
  const text = await (await fetch(server.baseUrl + '/metrics')).text();
  const synchronized = text.match(/^rounds_clock_synchronized ([01])$/m);
  assert.ok(synchronized, 'rounds_clock_synchronized is reported');
  const maxError = Number(text.match(/^rounds_clock_max_error_seconds (\S+)$/m)[1]);
  assert.ok(maxError >= 0);
  // Either verdict is logged once at start: out of step when not synchronized or possibly a second off.
  const alarm = synchronized[1] === '0' || maxError > 1;
  const events = server.logs().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((e) => e.event);
  assert.equal(events.filter((e) => e === (alarm ? 'clock_out_of_step' : 'clock_in_step')).length, 1, events.join(' '));
});

// Without --web-root, an installed server (bin/rounds beside share/rounds/web) serves its web app
// whatever folder it was started from; one that finds no web app says so in its log.
test('the web app is found beside an installed binary, and its absence is logged', async () => {
  const prefix = mkdtempSync(path.join(tmpdir(), 'rounds-prefix-'));
  const elsewhere = mkdtempSync(path.join(tmpdir(), 'rounds-cwd-'));
  try {
    mkdirSync(path.join(prefix, 'bin'));
    const binary = path.join(prefix, 'bin', 'rounds');
    copyFileSync(roundsBinary, binary);
    chmodSync(binary, 0o755);
    const bare = new RoundsServer({ binary, cwd: elsewhere });
    await bare.start();
    const missing = bare.logs().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'web_app_missing');
    assert.ok(missing, bare.logs());
    assert.equal((await fetch(`${bare.baseUrl}/`)).status, 404);
    await bare.stop();

    mkdirSync(path.join(prefix, 'share', 'rounds', 'web'), { recursive: true });
    writeFileSync(path.join(prefix, 'share', 'rounds', 'web', 'index.html'), INDEX);
    const installed = new RoundsServer({ binary, cwd: elsewhere, dataDir: bare.dataDir });
    await installed.start();
    const page = await fetch(`${installed.baseUrl}/`);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), INDEX);
    await installed.stop();

    // A web root configured where there is no web app is said to be one.
    const wrong = new RoundsServer({ binary, cwd: elsewhere, dataDir: bare.dataDir, extraArgs: ['--web-root', elsewhere] });
    await wrong.start();
    const said = wrong.logs().split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .filter((e) => e.event === 'web_app_missing' && e.web_root === elsewhere);
    assert.equal(said.length, 1, wrong.logs());
    await wrong.stop();
    bare.cleanup();
  } finally {
    rmSync(prefix, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
