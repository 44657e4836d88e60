// Password guessing against the real binary (security target: anti-brute-force controls that
// avoid malicious lock-out). 100 wrong passwords from one address are throttled whichever
// accounts they try; 100 from 50 addresses lock the account they try; and the account's owner,
// signing in from a browser that signed in before (its device cookie), still gets in.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, PASSWORD } from './fixtures.mjs';

let server, admin, users;

test.before(async () => {
  // Behind a trusted proxy the client's address is the last X-Forwarded-For entry, so one test
  // can speak from many addresses.
  ({ server, admin } = await startServer({ env: { ROUNDS_TRUST_PROXY: 'true' } }));
  users = await createUsers(server, admin, ['vera', 'wren', 'xavi', 'yoko', 'zeno']);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

async function login(body, { from, cookie } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (from) headers['x-forwarded-for'] = from;
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`${server.baseUrl}/api/v1/auth/login`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

// The name=value of the device cookie in a sign-in's answer.
function deviceCookie(res) {
  const cookies = res.headers.getSetCookie();
  const device = cookies.find((c) => c.startsWith('rounds_device='));
  assert.ok(device, `a device cookie among ${cookies}`);
  assert.match(device, /HttpOnly/);
  assert.match(device, /SameSite=Strict/);
  assert.match(device, /Max-Age=31536000/);
  return device.split(';')[0];
}

test('100 wrong passwords from one address are throttled, whichever accounts they try', async () => {
  const names = ['vera', 'wren', 'xavi', 'yoko', 'zeno'];
  const statuses = [];
  for (let i = 0; i < 100; i += 1) {
    const res = await login({ username: names[i % names.length], password: `guess-number-${i}` }, { from: '203.0.113.50' });
    statuses.push(res.status === 429 ? res.body.code : res.status);
  }
  // Thirty failures (the default) throttle the address; no account reached its own lock-out
  // (each got six guesses of ten) before that.
  assert.deepEqual(statuses.slice(0, 30), Array(30).fill(401));
  assert.deepEqual(statuses.slice(30), Array(70).fill('too_many_attempts'));
  const right = await login({ username: 'wren', password: PASSWORD, bearer: true }, { from: '203.0.113.50' });
  assert.equal(right.status, 429, 'the right password from that address waits too');
  assert.ok(Number(right.headers.get('retry-after')) > 800);
  assert.equal((await login({ username: 'wren', password: PASSWORD, bearer: true }, { from: '198.51.100.4' })).status, 200,
    'other addresses are not throttled');
});

test('100 wrong passwords from 50 addresses lock the account, and its owner still signs in from a known browser', async () => {
  // Vera signed in from her browser before: it keeps the device cookie.
  const earlier = await login({ username: 'vera', password: PASSWORD }, { from: '192.0.2.10' });
  assert.equal(earlier.status, 200);
  const cookie = deviceCookie(earlier);
  assert.equal(earlier.body.device_token, undefined, 'a browser never sees its device token');

  const codes = new Set();
  for (let i = 0; i < 100; i += 1) {
    const res = await login({ username: 'vera', password: `guess-${i}` }, { from: `198.51.100.${100 + (i % 50)}` });
    codes.add(res.status === 429 ? res.body.code : String(res.status));
  }
  assert.deepEqual([...codes].sort(), ['401', 'account_locked']);
  const stranger = await login({ username: 'vera', password: PASSWORD }, { from: '192.0.2.10' });
  assert.equal(stranger.status, 429, 'the right password without the device cookie waits');
  assert.equal(stranger.body.code, 'account_locked');
  assert.match(stranger.body.detail, /device you have signed in on before/);

  const owner = await login({ username: 'vera', password: PASSWORD }, { from: '192.0.2.10', cookie });
  assert.equal(owner.status, 200, JSON.stringify(owner.body));
  const session = owner.headers.getSetCookie().find((c) => c.startsWith('rounds_session=')).split(';')[0];
  const me = await fetch(`${server.baseUrl}/api/v1/me`, { headers: { cookie: session } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).user.username, 'vera');
  assert.notEqual(deviceCookie(owner), cookie, 'a fresh device cookie each time');

  // Another account's device cookie, or a forged one, is no proof.
  const wren = await login({ username: 'wren', password: PASSWORD }, { from: '192.0.2.11' });
  const borrowed = await login({ username: 'vera', password: PASSWORD }, { from: '192.0.2.11', cookie: deviceCookie(wren) });
  assert.equal(borrowed.status, 429);
  const forged = await login({ username: 'vera', password: PASSWORD }, { from: '192.0.2.11', cookie: `${cookie}0` });
  assert.equal(forged.status, 429);
});

test('an API client keeps its device token and sends it back', async () => {
  const first = await login({ username: 'xavi', password: PASSWORD, bearer: true }, { from: '192.0.2.20' });
  assert.equal(first.status, 200);
  assert.match(first.body.device_token, /^d1\.\d+\.\d+\.[A-Za-z0-9_-]+\.[0-9a-f]{64}$/);
  assert.equal(first.headers.getSetCookie().length, 0, 'no cookies for a bearer client');
  for (let i = 0; i < 10; i += 1) await login({ username: 'xavi', password: `guess-${i}` }, { from: `198.51.100.${200 + i}` });
  assert.equal((await login({ username: 'xavi', password: PASSWORD, bearer: true }, { from: '192.0.2.20' })).status, 429);
  const again = await login({ username: 'xavi', password: PASSWORD, bearer: true, device_token: first.body.device_token },
    { from: '192.0.2.20' });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.ok(again.body.token);
  const bad = await login({ username: 'xavi', password: PASSWORD, bearer: true, device_token: 'x'.repeat(300) });
  assert.equal(bad.status, 400, 'a device token is at most 256 characters');
});
