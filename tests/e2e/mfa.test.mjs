// Two-step sign-in in the browser: turning it on from the profile, signing in with a code from an
// authenticator app or a recovery code (each works once), new recovery codes and turning it off,
// the set-up screen a policy puts before everything else, and an administrator's reset for a lost
// phone. Codes are computed as an
// authenticator app would (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps), by tests/lib/totp.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createUsers } from '../integration/fixtures.mjs';
import { ADMIN } from '../lib/server.mjs';
import { base32Decode, currentStep, totp } from '../lib/totp.mjs';
import { administer, openBrowser, signIn, startAppServer, screenshot, unlabelledControls, PASSWORD, fetchFromPage } from './browser.mjs';

let server, admin, users;

test.before(async () => {
  ({ server, admin, users } = await startAppServer(['ana', 'bo', 'cy', 'ed', 'fay']));
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

// ---- an authenticator app ----

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Authenticator {
  constructor(secret) {
    this.secret = secret;
    this.lastStep = -1;
  }

  // A code the server has not taken yet. Each step's code works once and the server accepts one
  // step either side of its clock, so once this step's code is spent the next step's is used;
  // after that, this waits for the clock to move on.
  async next() {
    const step = Math.max(currentStep(), this.lastStep + 1);
    while (step > currentStep() + 1) await sleep(Math.max(50, (currentStep() + 1) * 30_000 - Date.now() + 200));
    this.lastStep = step;
    return totp(this.secret, step);
  }

  /** Six digits no step near now gives. */
  wrong() {
    const near = new Set([-2, -1, 0, 1, 2].map((d) => totp(this.secret, currentStep() + d)));
    for (let n = 123456; ; n = (n + 111111) % 1_000_000) {
      const code = String(n).padStart(6, '0');
      if (!near.has(code)) return code;
    }
  }
}

/** Turns two-step sign-in on for a signed-in API client; returns its authenticator and recovery codes. */
async function turnOnViaApi(client, password = PASSWORD) {
  const setup = await client.post('/api/v1/me/mfa/totp/setup', { password });
  assert.equal(setup.status, 200, setup.text);
  const app = new Authenticator(setup.body.secret);
  const confirm = await client.post('/api/v1/me/mfa/totp/confirm', { code: await app.next() });
  assert.equal(confirm.status, 200, confirm.text);
  return { app, recoveryCodes: confirm.body.recovery_codes };
}

/** Username and password on the sign-in card, without waiting for the app. */
async function enterPassword(page, baseUrl, username, password = PASSWORD) {
  await page.goto(baseUrl + '/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Takes the set-up steps on whichever screen shows them; returns the app and the recovery codes shown. */
async function setUpInPage(page, password = PASSWORD) {
  await page.getByLabel('Your password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  const secretBox = page.getByTestId('mfa-secret');
  await secretBox.waitFor();
  const secret = await secretBox.getAttribute('data-secret');
  assert.match(secret, /^[A-Z2-7]{16,}$/, 'the plain base32 secret');
  assert.equal((await secretBox.textContent()).trim(), secret.match(/.{1,4}/g).join(' '), 'shown in groups of four');
  // The QR code is inline SVG, which the page's Content-Security-Policy lets render.
  const qr = page.getByTestId('mfa-qr');
  const box = await qr.boundingBox();
  assert.ok(box && box.width >= 150 && box.height >= 150, `the QR code is drawn (${JSON.stringify(box)})`);
  assert.ok((await qr.locator('path').getAttribute('d')).length > 200, 'the QR code has modules');

  const app = new Authenticator(secret);
  await page.getByLabel('Authentication code').fill(app.wrong());
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.locator('form .error[role="alert"]').waitFor();
  assert.equal(await page.getByTestId('recovery-codes').count(), 0, 'a wrong code does not turn it on');

  await page.getByLabel('Authentication code').fill(await app.next());
  await page.getByRole('button', { name: 'Turn on' }).click();
  const list = page.getByTestId('recovery-codes');
  await list.waitFor();
  const codes = (await list.locator('li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10, 'ten recovery codes');
  assert.equal(new Set(codes).size, 10, 'all different');
  for (const c of codes) assert.match(c, /^[a-z0-9]{5}-[a-z0-9]{5}$/);
  return { app, codes };
}

test('the test\'s authenticator gives RFC 6238\'s SHA-1 test vectors', () => {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';  // base32 of RFC 6238's key
  assert.deepEqual(base32Decode(secret), Buffer.from('12345678901234567890'));
  // RFC 6238 appendix B, 8 digits there; the last 6 are the 6-digit code.
  assert.equal(totp(secret, Math.floor(59 / 30)), '287082');
  assert.equal(totp(secret, Math.floor(1111111109 / 30)), '081804');
  assert.equal(totp(secret, Math.floor(20000000000 / 30)), '353130');
});

test('turned on from the profile, the password alone no longer signs in: the code step asks for a code, a wrong one is explained, the right one gets in', async () => {
  const b = await openBrowser();
  const policyErrors = [];
  b.page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) policyErrors.push(m.text()); });
  try {
    await signIn(b.page, server.baseUrl, 'ana');
    await b.page.goto(`${server.baseUrl}/#/profile`);
    const section = b.page.getByRole('region', { name: 'Two-step sign-in' });
    await section.getByTestId('mfa-state').waitFor();
    assert.match(await section.getByTestId('mfa-state').textContent(), /^Off\./);

    await section.getByRole('button', { name: 'Set up two-step sign-in' }).click();
    const { app } = await setUpInPage(b.page);
    await screenshot(b.page, 'mfa-profile-recovery-codes');
    await section.getByRole('button', { name: 'Done' }).click();
    await section.getByText('Two-step sign-in is on.').waitFor();
    assert.match(await section.getByTestId('mfa-state').textContent(), /^On\./);
    assert.equal((await section.getByTestId('mfa-codes-left').textContent()).trim(), '10 recovery codes left.');
    // This browser's session goes on; the other sessions of the account (the API client's) ended.
    const me = await fetchFromPage(b.page, '/api/v1/me');
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.mfa, { enabled: true, required: false, recovery_codes_left: 10 });
    assert.equal((await users.ana.get('/api/v1/me')).status, 401, 'other sessions are ended');

    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await enterPassword(b.page, server.baseUrl, 'ana');
    const code = b.page.getByLabel('Authentication code');
    await code.waitFor();
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    assert.ok(await code.evaluate((el) => el === document.activeElement), 'the code field has focus');
    assert.equal(await b.page.getByLabel('Password').count(), 0, 'the password step is gone');
    assert.equal(await b.page.locator('.sidebar').count(), 0, 'the app does not open on the password alone');
    assert.equal((await fetchFromPage(b.page, '/api/v1/me')).status, 401, 'and there is no session yet');
    assert.deepEqual(await unlabelledControls(b.page), []);
    await screenshot(b.page, 'mfa-code-step');

    await code.fill(app.wrong());
    await b.page.getByRole('button', { name: 'Verify' }).click();
    const problem = b.page.locator('form .error[role="alert"]');
    await problem.waitFor();
    assert.ok((await problem.textContent()).trim().length > 5, 'the refusal is explained');
    assert.equal(await b.page.locator('.sidebar').count(), 0);

    await code.fill(await app.next());
    await b.page.getByRole('button', { name: 'Verify' }).click();
    await b.page.locator('.status-live').waitFor({ state: 'attached', timeout: 15_000 });
    assert.equal((await fetchFromPage(b.page, '/api/v1/me')).body.user.username, 'ana');
    assert.deepEqual(b.errors, []);
    assert.deepEqual(policyErrors, [], 'nothing was blocked by the Content-Security-Policy');
  } finally {
    await b.close();
  }
});

test('a recovery code signs in once; the same code again is refused with the reason shown', async () => {
  const { recoveryCodes } = await turnOnViaApi(users.bo);
  assert.equal(recoveryCodes.length, 10);
  const [spent] = recoveryCodes;
  const b = await openBrowser();
  try {
    await enterPassword(b.page, server.baseUrl, 'bo');
    await b.page.getByLabel('Authentication code').fill(spent.toUpperCase());
    await b.page.getByRole('button', { name: 'Verify' }).click();
    await b.page.locator('.status-live').waitFor({ state: 'attached', timeout: 15_000 });
    await b.page.goto(`${server.baseUrl}/#/profile`);
    const left = b.page.getByTestId('mfa-codes-left');
    await left.waitFor();
    assert.equal((await left.textContent()).trim(), '9 recovery codes left.');
    await b.page.getByRole('button', { name: 'Sign out' }).click();

    await enterPassword(b.page, server.baseUrl, 'bo');
    await b.page.getByLabel('Authentication code').fill(spent);
    await b.page.getByRole('button', { name: 'Verify' }).click();
    const problem = b.page.locator('form .error[role="alert"]');
    await problem.waitFor();
    assert.ok((await problem.textContent()).trim().length > 5);
    assert.equal(await b.page.locator('.sidebar').count(), 0, 'a spent code does not get in');
    assert.equal((await fetchFromPage(b.page, '/api/v1/me')).status, 401);

    // "Start over" goes back to the password, keeping the username.
    await b.page.getByRole('button', { name: 'Start over' }).click();
    assert.equal(await b.page.getByLabel('Username').inputValue(), 'bo');
    await b.page.getByLabel('Password').waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('from the profile: new recovery codes replace the old ones, and turning it off brings back the password alone', async () => {
  const { app, recoveryCodes: old } = await turnOnViaApi(users.fay);
  const b = await openBrowser();
  try {
    await enterPassword(b.page, server.baseUrl, 'fay');
    await b.page.getByLabel('Authentication code').fill(old[0]);
    await b.page.getByRole('button', { name: 'Verify' }).click();
    await b.page.locator('.status-live').waitFor({ state: 'attached', timeout: 15_000 });
    await b.page.goto(`${server.baseUrl}/#/profile`);
    const section = b.page.getByRole('region', { name: 'Two-step sign-in' });

    await section.getByRole('button', { name: 'New recovery codes' }).click();
    await section.getByLabel('Your password').fill(PASSWORD);
    await section.getByLabel('Authentication code').fill(app.wrong());
    await section.getByRole('button', { name: 'Make new codes' }).click();
    await section.locator('.error[role="alert"]').waitFor();
    // A wrong code is not a lost session: the app is still here.
    assert.equal(await b.page.locator('.status-live').count(), 1);
    await section.getByLabel('Authentication code').fill(await app.next());
    await section.getByRole('button', { name: 'Make new codes' }).click();
    const list = section.getByTestId('recovery-codes');
    await list.waitFor();
    const fresh = (await list.locator('li').allTextContents()).map((c) => c.trim());
    assert.equal(fresh.length, 10);
    assert.ok(fresh.every((c) => !old.includes(c)), 'all new');
    await section.getByRole('button', { name: 'Done' }).click();
    assert.equal((await section.getByTestId('mfa-codes-left').textContent()).trim(), '10 recovery codes left.');
    // The old codes stopped working.
    const challenge = await server.client().post('/api/v1/auth/login', { username: 'fay', password: PASSWORD, bearer: true });
    assert.equal(challenge.body.mfa_required, true);
    const withOld = await server.client().post('/api/v1/auth/mfa', { mfa_token: challenge.body.mfa_token, code: old[1], bearer: true });
    assert.equal(withOld.status, 401);
    assert.equal(withOld.body.code, 'invalid_code');

    await section.getByRole('button', { name: 'Turn off' }).click();
    await section.getByLabel('Your password').fill('not the password at all');
    await section.getByLabel('Authentication code').fill(fresh[0]);
    await section.getByRole('button', { name: 'Turn off' }).click();
    await section.locator('.error[role="alert"]').waitFor();
    await section.getByLabel('Your password').fill(PASSWORD);
    await section.getByLabel('Authentication code').fill(fresh[0]);
    await section.getByRole('button', { name: 'Turn off' }).click();
    await section.getByText('Two-step sign-in is off.').waitFor();
    assert.match(await section.getByTestId('mfa-state').textContent(), /^Off\./);

    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(b.page, server.baseUrl, 'fay');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('when a policy requires two-step sign-in, an account without it sees only the set-up screen, and the app once it is set up', async () => {
  const policy = await startAppServer([], { env: { ROUNDS_MFA_REQUIRED: 'all' } });
  const b = await openBrowser();
  try {
    // The policy covers the administrator too: nothing but the set-up until it is done.
    const refused = await policy.admin.get('/api/v1/users');
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.code, 'mfa_enrollment_required');
    const { app: rootApp } = await turnOnViaApi(policy.admin, ADMIN.password);
    await policy.admin.elevate(ADMIN.password, await rootApp.next());
    const { dee } = await createUsers(policy.server, policy.admin, ['dee']);
    const me = await dee.get('/api/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.mfa_enrollment_required, true);
    assert.equal(me.body.mfa.required, true);

    await enterPassword(b.page, policy.server.baseUrl, 'dee');
    await b.page.getByRole('heading', { name: 'Set up two-step sign-in' }).waitFor();
    assert.equal(await b.page.locator('.sidebar').count(), 0, 'none of the app is shown');
    assert.equal(await b.page.locator('.status-live').count(), 0);
    await b.page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.deepEqual(await unlabelledControls(b.page), []);
    await screenshot(b.page, 'mfa-enrollment');
    const spaces = await fetchFromPage(b.page, '/api/v1/spaces?scope=mine');
    assert.equal(spaces.status, 403);
    assert.equal(spaces.body.code, 'mfa_enrollment_required');

    await setUpInPage(b.page);
    await b.page.getByRole('button', { name: 'Continue to Rounds' }).click();
    await b.page.locator('.status-live').waitFor({ state: 'attached', timeout: 15_000 });
    await b.page.getByRole('heading', { name: /Good (morning|afternoon|evening)/ }).waitFor();
    assert.equal((await fetchFromPage(b.page, '/api/v1/spaces?scope=mine')).status, 200);

    // Required by policy: it cannot be turned off from the profile.
    await b.page.goto(`${policy.server.baseUrl}/#/profile`);
    const section = b.page.getByRole('region', { name: 'Two-step sign-in' });
    await section.getByRole('button', { name: 'New recovery codes' }).waitFor();
    assert.equal(await section.getByRole('button', { name: 'Turn off' }).count(), 0);
    await section.getByText('cannot be turned off').waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await policy.server.stop();
    policy.server.cleanup();
  }
});

test('an administrator resets two-step sign-in from the person page; that person then signs in with the password alone', async () => {
  await turnOnViaApi(users.cy);
  const cyId = users.cy.user.id;
  const adminBrowser = await openBrowser();
  const colleague = await openBrowser();
  const cy = await openBrowser();
  try {
    // A colleague who is not an administrator is offered no reset.
    await signIn(colleague.page, server.baseUrl, 'ed');
    await colleague.page.goto(`${server.baseUrl}/#/people/${cyId}`);
    await colleague.page.getByRole('heading', { name: 'User cy' }).waitFor();
    assert.equal(await colleague.page.getByRole('button', { name: 'Reset two-step sign-in' }).count(), 0);
    assert.equal((await users.ed.post(`/api/v1/users/${cyId}/mfa/reset`)).status, 403);

    await enterPassword(cy.page, server.baseUrl, 'cy');
    await cy.page.getByLabel('Authentication code').waitFor();

    await signIn(adminBrowser.page, server.baseUrl, ADMIN.username, ADMIN.password);
    await adminBrowser.page.goto(`${server.baseUrl}/#/people/${cyId}`);
    await administer(adminBrowser.page, ADMIN.password);
    await adminBrowser.page.getByRole('button', { name: 'Reset two-step sign-in' }).click();
    const dialog = adminBrowser.page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Reset two-step sign-in?' }).waitFor();
    await dialog.getByRole('button', { name: 'Reset', exact: true }).click();
    await adminBrowser.page.getByRole('status').filter({ hasText: 'Two-step sign-in was reset for User cy' }).waitFor();
    assert.equal(await dialog.count(), 0, 'the dialog closed');
    assert.equal((await users.cy.get('/api/v1/me')).status, 401, 'their sessions were ended');

    await signIn(cy.page, server.baseUrl, 'cy');
    const me = await fetchFromPage(cy.page, '/api/v1/me');
    assert.equal(me.body.user.username, 'cy');
    assert.equal(me.body.mfa.enabled, false);
    assert.deepEqual(adminBrowser.errors, []);
    assert.deepEqual(cy.errors, []);
  } finally {
    await adminBrowser.close();
    await colleague.close();
    await cy.close();
  }
});
