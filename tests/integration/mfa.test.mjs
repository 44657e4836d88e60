// Two-step sign-in (TOTP, RFC 6238) against the real binary, with codes computed independently
// of the server (security targets 1, 4 and S7): after set-up the password alone opens no session;
// a code works once; browsers get their cookies only from the second step; where the server
// requires it, an account without it can do nothing but set it up, on any route or the event
// stream; an administrator can reset it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, createOfficer, PASSWORD } from './fixtures.mjs';
import { totp, currentStep, enrollTotp } from '../lib/totp.mjs';

let server, admin, users;

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['ines', 'jude', 'kofi', 'lena']);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

async function post(path, body, headers = {}) {
  const res = await fetch(server.baseUrl + path, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

function assertProblem(res, status, code) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code);
  assert.match(res.headers.get('content-type'), /application\/problem\+json/);
}

test('after set-up the password alone opens no session; each code works once', async () => {
  const ines = users.ines;
  assertProblem(await ines.post('/api/v1/me/mfa/totp/setup', { password: 'not the password' }), 403, 'invalid_credentials');
  assertProblem(await ines.post('/api/v1/me/mfa/totp/confirm', { code: '123456' }), 409, 'mfa_setup_not_started');

  const setup = await ines.post('/api/v1/me/mfa/totp/setup', { password: PASSWORD });
  assert.equal(setup.status, 200);
  assert.equal(setup.headers.get('cache-control'), 'no-store');
  assert.match(setup.body.secret, /^[A-Z2-7]{32}$/, '160 bits in base32');
  assert.equal(setup.body.otpauth_uri,
    `otpauth://totp/Rounds:ines?secret=${setup.body.secret}&issuer=Rounds&algorithm=SHA1&digits=6&period=30`);
  const right = totp(setup.body.secret);
  assertProblem(await ines.post('/api/v1/me/mfa/totp/confirm', { code: right === '000000' ? '111111' : '000000' }), 401, 'invalid_code');
  const confirm = await ines.post('/api/v1/me/mfa/totp/confirm', { code: right });
  assert.equal(confirm.status, 200);
  assert.equal(confirm.body.recovery_codes.length, 10);
  const me = await ines.get('/api/v1/me');
  assert.deepEqual(me.body.mfa, { enabled: true, required: false, recovery_codes_left: 10 });
  assert.equal(me.body.mfa_enrollment_required, false);
  assertProblem(await ines.post('/api/v1/me/mfa/totp/setup', { password: PASSWORD }), 409, 'mfa_already_enabled');

  const first = await post('/api/v1/auth/login', { username: 'ines', password: PASSWORD, bearer: true });
  assert.equal(first.status, 200);
  assert.equal(first.body.mfa_required, true);
  assert.deepEqual(first.body.methods, ['totp', 'recovery_code']);
  assert.equal(first.body.token, undefined, 'no session yet');
  assert.equal(first.headers.getSetCookie().length, 0);
  // The set-up spent this step's code: the next step's is the one to use now.
  const next = totp(setup.body.secret, currentStep() + 1);
  const second = await post('/api/v1/auth/mfa', { mfa_token: first.body.mfa_token, code: next, bearer: true });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.ok(second.body.token);
  const signedIn = await fetch(`${server.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${second.body.token}` } });
  assert.equal((await signedIn.json()).user.username, 'ines');

  const again = await post('/api/v1/auth/login', { username: 'ines', password: PASSWORD, bearer: true });
  assertProblem(await post('/api/v1/auth/mfa', { mfa_token: again.body.mfa_token, code: next, bearer: true }), 401, 'invalid_code');
  // A recovery code instead, once.
  const recovery = confirm.body.recovery_codes[0];
  assert.equal((await post('/api/v1/auth/mfa', { mfa_token: again.body.mfa_token, code: recovery, bearer: true })).status, 200);
  assertProblem(await post('/api/v1/auth/mfa', { mfa_token: again.body.mfa_token, code: recovery, bearer: true }), 401, 'invalid_code');
  assert.equal((await ines.get('/api/v1/me')).body.mfa.recovery_codes_left, 9);
  // The password and a code in one request, for API clients.
  const oneStep = await post('/api/v1/auth/login', { username: 'ines', password: PASSWORD, bearer: true,
    code: confirm.body.recovery_codes[1] });
  assert.equal(oneStep.status, 200);
  assert.ok(oneStep.body.token);
});

test('a browser gets its session and device cookies from the second step only', async () => {
  const { secret } = await enrollTotp(users.jude, PASSWORD);
  const first = await post('/api/v1/auth/login', { username: 'jude', password: PASSWORD, bearer: false });
  assert.equal(first.body.mfa_required, true);
  assert.equal(first.headers.getSetCookie().length, 0);
  const second = await post('/api/v1/auth/mfa', { mfa_token: first.body.mfa_token, code: totp(secret, currentStep() + 1) });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  const cookies = second.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith('rounds_session='));
  assert.ok(session && /HttpOnly/.test(session) && /SameSite=Strict/.test(session));
  assert.ok(cookies.some((c) => c.startsWith('rounds_device=')));
  assert.equal(second.body.token, undefined, 'a browser never sees its token');
  const me = await fetch(`${server.baseUrl}/api/v1/me`, { headers: { cookie: session.split(';')[0] } });
  assert.equal((await me.json()).user.username, 'jude');
});

test('bad input to the second step gets a clear problem and changes nothing', async () => {
  assertProblem(await post('/api/v1/auth/mfa', { mfa_token: 'm1.1.2.3.4', code: '123456' }), 401, 'invalid_mfa_token');
  assertProblem(await post('/api/v1/auth/mfa', { mfa_token: 'not a token', code: '123456' }), 401, 'invalid_mfa_token');
  assertProblem(await post('/api/v1/auth/mfa', { code: '123456' }), 400, 'missing_field');
  assertProblem(await post('/api/v1/auth/mfa', { mfa_token: 'x', code: '1'.repeat(65) }), 400, 'too_long');
  assert.equal((await post('/api/v1/auth/mfa', { mfa_token: 'x', code: '1', extra: 1 })).status, 400);
  const res = await post('/api/v1/auth/login', { username: 'kofi', password: PASSWORD, bearer: true, code: 'whatever' });
  assert.equal(res.status, 200, 'a code sent for an account without two-step sign-in is ignored');
  assert.ok(res.body.token);
});

test('an administrator resets a lost authenticator; nobody else can', async () => {
  await enrollTotp(users.lena, PASSWORD);
  const id = users.lena.user.id;
  assertProblem(await users.kofi.post(`/api/v1/users/${id}/mfa/reset`, {}), 403, 'admin_required');
  assert.equal((await post('/api/v1/auth/login', { username: 'lena', password: PASSWORD, bearer: true })).body.mfa_required, true);
  assert.equal((await admin.post(`/api/v1/users/${id}/mfa/reset`, {})).status, 204);
  assert.equal((await users.lena.get('/api/v1/me')).status, 401, 'her sessions ended');
  const plain = await post('/api/v1/auth/login', { username: 'lena', password: PASSWORD, bearer: true });
  assert.equal(plain.status, 200);
  assert.ok(plain.body.token, 'the password alone signs in again');
  const officer = await createOfficer(server, admin);
  const trail = await officer.get('/api/v1/audit?action=user.mfa_reset');
  assert.equal(trail.status, 200, trail.text);
  assert.ok(trail.body.items.some((r) => r.object_id === String(id) && r.outcome === 'success'), trail.text);
  assert.ok(trail.body.items.some((r) => r.outcome === 'denied'), 'the refused attempt is on record too');
});

test('a password reset by an administrator leaves the second factor in place', async () => {
  const { kofi } = users;
  await enrollTotp(kofi, PASSWORD);
  const fresh = 'a-reset-passphrase-2026';
  assert.equal((await admin.post(`/api/v1/users/${kofi.user.id}/password`, { new_password: fresh })).status, 204);
  const res = await post('/api/v1/auth/login', { username: 'kofi', password: fresh, bearer: true });
  assert.equal(res.status, 200);
  assert.equal(res.body.mfa_required, true, 'whoever knows the new password still needs the phone');
  assert.equal(res.body.token, undefined);
});

test('where the server requires it, an account without it may only set it up', async () => {
  const strict = await startServer({ env: { ROUNDS_MFA_REQUIRED: 'all' } });
  try {
    // The administrator too: first of all it sets up its own.
    const blocked = await strict.admin.post('/api/v1/users', { username: 'x', display_name: 'X', password: PASSWORD });
    assertProblem(blocked, 403, 'mfa_enrollment_required');
    const root = await enrollTotp(strict.admin, 'integration-root-secret-2026');
    // Administration then takes the password and a code as well (security target S7).
    assertProblem(await strict.admin.post('/api/v1/users', { username: 'x', display_name: 'X', password: PASSWORD }),
      403, 'admin_elevation_required');
    assertProblem(await strict.admin.post('/api/v1/auth/elevation', { password: 'integration-root-secret-2026' }),
      400, 'code_required');
    await strict.admin.elevate('integration-root-secret-2026', totp(root.secret, currentStep() + 1));
    const { mona } = await createUsers(strict.server, strict.admin, ['mona']);

    const me = await mona.get('/api/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.mfa_enrollment_required, true);
    assert.deepEqual(me.body.mfa, { enabled: false, required: true, recovery_codes_left: 0 });
    assertProblem(await mona.get('/api/v1/spaces'), 403, 'mfa_enrollment_required');
    assertProblem(await mona.get('/api/v1/spaces/1/messages'), 403, 'mfa_enrollment_required');
    assertProblem(await mona.post('/api/v1/spaces', { kind: 'channel', name: 'side-door' }), 403, 'mfa_enrollment_required');
    await assert.rejects(mona.openEvents(), (e) => e.statusCode === 403, 'nor the event stream');

    const { secret } = await enrollTotp(mona, PASSWORD);
    assert.equal((await mona.get('/api/v1/spaces')).status, 200, 'the session that set it up goes on');
    const events = await mona.openEvents();
    await events.close();
    assertProblem(await mona.post('/api/v1/me/mfa/totp/disable', { password: PASSWORD, code: totp(secret, currentStep() + 1) }),
      403, 'mfa_required_by_policy');
  } finally {
    await strict.server.stop();
    strict.server.cleanup();
  }
});
