// A user's own sessions (security target 10): list where one is signed in, sign one out (its
// WebSocket closes at once), sign out every other; and a new e-mail address needs the password.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, PASSWORD } from './fixtures.mjs';

let server, admin, users;

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['nico', 'omar']);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('a user lists their sessions and signs one out; its socket closes', async () => {
  const laptop = server.client();
  await laptop.login('nico', PASSWORD, { cookie: true });
  const phone = server.client();
  await phone.login('nico', PASSWORD);
  const phoneEvents = await phone.openEvents();

  const listed = await laptop.get('/api/v1/me/sessions');
  assert.equal(listed.status, 200);
  assert.equal(listed.body.items.length, 3, 'the fixture\'s session, the laptop and the phone');
  const mine = listed.body.items.filter((s) => s.current);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].bearer, false);
  assert.ok(listed.body.items.every((s) => s.address === '127.0.0.1' && s.expires_at > s.created_at));
  assert.ok(!JSON.stringify(listed.body).includes(laptop.csrf), 'no CSRF token of another session, nor its own');
  assert.equal((await users.omar.get('/api/v1/me/sessions')).body.items.length, 1, 'only their own');

  const phoneSession = (await phone.get('/api/v1/me/sessions')).body.items.find((s) => s.current);
  assert.equal((await users.omar.del(`/api/v1/me/sessions/${phoneSession.id}`)).status, 404, 'not someone else\'s');
  assert.equal((await phone.get('/api/v1/me')).status, 200);
  assert.equal((await laptop.del(`/api/v1/me/sessions/${phoneSession.id}`)).status, 204);
  const closed = await phoneEvents.closed;
  assert.equal(closed.code, 4001, 'the signed-out session\'s socket is closed by the server');
  assert.equal((await phone.get('/api/v1/me')).status, 401);
  assert.equal((await laptop.del(`/api/v1/me/sessions/${phoneSession.id}`)).status, 404, 'gone already');

  const ended = await laptop.post('/api/v1/me/sessions/end-others');
  assert.equal(ended.status, 200);
  assert.equal(ended.body.ended, 1, 'the fixture\'s session');
  assert.equal((await users.nico.get('/api/v1/me')).status, 401);
  assert.equal((await laptop.get('/api/v1/me/sessions')).body.items.length, 1);
});

test('a new e-mail address needs the current password; the name alone does not', async () => {
  const omar = users.omar;
  const refused = await omar.patch('/api/v1/me', { email: 'omar.new@example.org' });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'reauthentication_required');
  const wrong = await omar.patch('/api/v1/me', { email: 'omar.new@example.org', current_password: 'not my password' });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.code, 'invalid_credentials');
  assert.equal((await omar.get('/api/v1/me')).body.user.email, 'omar@example.org', 'unchanged');
  const right = await omar.patch('/api/v1/me', { email: 'omar.new@example.org', current_password: PASSWORD });
  assert.equal(right.status, 200, right.text);
  assert.equal((await omar.get('/api/v1/me')).body.user.email, 'omar.new@example.org');
  const rename = await omar.patch('/api/v1/me', { display_name: 'Omar F.', email: 'omar.new@example.org' });
  assert.equal(rename.status, 200, 'the unchanged address sent back with the form needs nothing');
});
