// The per-user limit on state-changing requests against the real binary: a burst, then 429
// too_many_requests with Retry-After; reads and other users go on; the limit refills.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, createSpace, addMember, createOfficer } from './fixtures.mjs';

let server, admin, users, space;

test.before(async () => {
  ({ server, admin } = await startServer({ env: { ROUNDS_WRITE_REQUESTS_PER_SECOND: '2', ROUNDS_WRITE_REQUEST_BURST: '8' } }));
  users = await createUsers(server, admin, ['lior', 'mika']);
  space = await createSpace(users.lior, { kind: 'channel', name: 'flood', visibility: 'private', join_policy: 'invite' });
  await addMember(users.lior, space.id, users.mika.user.id);
  await new Promise((r) => setTimeout(r, 4500));  // the set-up's own writes refilled
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('a burst of posts is cut off with 429 and Retry-After; reads and other users go on', async () => {
  const answers = [];
  for (let i = 0; i < 12; i += 1) answers.push(await users.lior.post(`/api/v1/spaces/${space.id}/messages`, { body: `note ${i}` }));
  const statuses = answers.map((a) => a.status);
  assert.deepEqual(statuses.slice(0, 8), Array(8).fill(201));
  assert.ok(statuses.slice(8).every((s) => s === 429 || s === 201), statuses.join());
  const limited = answers.find((a) => a.status === 429);
  assert.ok(limited, `some of ${statuses.join()} were refused`);
  assert.equal(limited.body.code, 'too_many_requests');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  const stored = (await users.lior.get(`/api/v1/spaces/${space.id}/messages?limit=50`)).body.items;
  assert.equal(stored.length, statuses.filter((s) => s === 201).length, 'a refused post is not stored');
  assert.equal((await users.mika.post(`/api/v1/spaces/${space.id}/messages`, { body: 'mine still goes' })).status, 201);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await users.lior.post(`/api/v1/spaces/${space.id}/messages`, { body: 'after a pause' })).status, 201);
});

// Without trust_proxy the client's X-Forwarded-For is ignored: it cannot move a guesser to a
// fresh address throttle (nor change the address in the audit trail).
test('a spoofed X-Forwarded-For does not escape the sign-in throttle', async () => {
  const officer = await createOfficer(server, admin);  // signed in before the address is throttled
  const statuses = [];
  for (let i = 0; i < 32; i += 1) {
    const res = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${i}` },
      body: JSON.stringify({ username: `nobody-${i}`, password: 'a guess at a password' }),
    });
    statuses.push(res.status);
  }
  assert.deepEqual(statuses.slice(0, 30), Array(30).fill(401));
  assert.deepEqual(statuses.slice(30), [429, 429], 'thirty failures from one real address, whatever it claimed');
  const trail = await officer.get('/api/v1/audit?action=auth.login&limit=100');
  assert.equal(trail.status, 200, trail.text);
  const refused = trail.body.items.filter((r) => r.reason === 'unknown_user' || r.reason === 'address_throttled');
  assert.equal(refused.filter((r) => r.reason === 'address_throttled').length, 2, 'the throttled attempts are on the trail');
  assert.equal(refused.length, 32);
  assert.deepEqual([...new Set(refused.map((r) => r.address))], ['127.0.0.1'], 'with the real address');
});
