// Signing in and out, sessions across reloads, sessions ended elsewhere, and the profile page.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace, addMember, createUsers } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer, messageWith, screenshot, waitForValue, PASSWORD } from './browser.mjs';

let server, admin, users, channel;

test.before(async () => {
  ({ server, admin, users } = await startAppServer(['ana', 'bo']));
  channel = await createSpace(users.ana, { name: 'ward-7', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('sign in, see my spaces, sign out; a wrong password is explained next to the form', async () => {
  const b = await openBrowser();
  try {
    await b.page.goto(server.baseUrl + '/');
    await screenshot(b.page, 'sign-in');
    await b.page.getByLabel('Username').fill('ana');
    await b.page.getByLabel('Password').fill('not the right password');
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    const problem = b.page.locator('form .error[role="alert"]');
    await problem.waitFor();
    assert.ok((await problem.textContent()).length > 5, 'the problem detail is shown');
    assert.equal(await b.page.getByLabel('Username').inputValue(), 'ana', 'what was typed is kept');

    await signIn(b.page, server.baseUrl, 'ana');
    await b.page.getByRole('link', { name: '# ward-7' }).waitFor();
    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await b.page.getByLabel('Username').waitFor();
    // The session is over on the server: a reload does not bring it back.
    await b.page.reload();
    await b.page.getByLabel('Username').waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a guesser locks the account for strangers, and its owner still signs in from a browser used before', async () => {
  const { cy } = await createUsers(server, admin, ['cy']);
  const own = await openBrowser();
  const other = await openBrowser();
  try {
    await signIn(own.page, server.baseUrl, 'cy');
    await own.page.getByRole('button', { name: 'Sign out' }).click();
    await own.page.getByLabel('Username').waitFor();
    const deviceCookie = (await own.context.cookies()).find((c) => c.name === 'rounds_device');
    assert.ok(deviceCookie && deviceCookie.httpOnly, 'the browser keeps an HttpOnly device cookie');

    const guesser = server.client();
    for (let i = 0; i < 10; i += 1) await guesser.post('/api/v1/auth/login', { username: 'cy', password: `guess number ${i}` });

    await other.page.goto(server.baseUrl + '/');
    await other.page.getByLabel('Username').fill('cy');
    await other.page.getByLabel('Password').fill(PASSWORD);
    await other.page.getByRole('button', { name: 'Sign in' }).click();
    const problem = other.page.locator('form .error[role="alert"]');
    await problem.waitFor();
    assert.match(await problem.textContent(), /device you have signed in on before/);

    await signIn(own.page, server.baseUrl, 'cy');
    assert.equal((await cy.get('/api/v1/me')).body.user.username, 'cy');
    assert.deepEqual(own.errors, []);
  } finally {
    await own.close();
    await other.close();
  }
});

test('a reload keeps the session and the CSRF token; nothing is kept in browser storage', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'ana');
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await b.page.reload();
    await b.page.locator('.status-live').waitFor({ state: 'attached' });
    const composer = b.page.getByLabel('Message', { exact: true });
    await composer.fill('Sent after a reload');
    await composer.press('Enter');
    await messageWith(b.page, 'Sent after a reload').waitFor();
    await waitForValue(composer, ''); // the composer is cleared once the server accepted it
    const stored = await b.page.evaluate(() => [localStorage.length, sessionStorage.length]);
    assert.deepEqual(stored, [0, 0], 'no message content, token or state in browser storage');
    const cookies = await b.context.cookies();
    assert.ok(cookies.every((c) => c.httpOnly), 'the session cookie is HttpOnly');

    // An unsent draft is kept while switching screens, and gone for the next person at this screen.
    await composer.fill('Unsent draft about bed 4');
    await b.page.goto(`${server.baseUrl}/#/people`);
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    assert.equal(await composer.inputValue(), 'Unsent draft about bed 4');
    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await messageWith(b.page, 'Sent after a reload').waitFor();
    assert.equal(await composer.inputValue(), '', 'the previous person\'s draft is wiped');
  } finally {
    await b.close();
  }
});

test('when the session ends elsewhere the app returns to sign-in and forgets what it showed', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.getByRole('heading', { name: /Good (morning|afternoon|evening)/ }).waitFor();
    // An administrator disables the account: every session ends and the socket closes with 4001.
    const res = await admin.patch(`/api/v1/users/${users.bo.user.id}`, { disabled: true });
    assert.equal(res.status, 200);
    await b.page.getByLabel('Username').waitFor({ timeout: 15_000 });
    await b.page.getByText('Your session has ended').waitFor();
    assert.equal(await b.page.locator('.sidebar').count(), 0, 'nothing of the session is left on screen');
  } finally {
    await admin.patch(`/api/v1/users/${users.bo.user.id}`, { disabled: false });
    await b.close();
  }
});

test('profile: change my display name; a wrong current password is reported inline', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'ana');
    await b.page.goto(`${server.baseUrl}/#/profile`);
    await b.page.getByLabel('Display name').fill('Ana Lopes');
    await b.page.getByRole('button', { name: 'Save profile' }).click();
    await b.page.getByText('Profile saved.').waitFor();
    await b.page.locator('.topbar').getByText('Ana Lopes').waitFor();

    await b.page.getByLabel('Current password').fill('definitely-not-my-password');
    await b.page.getByLabel('New password', { exact: true }).fill('a-brand-new-passphrase');
    await b.page.getByLabel('New password again').fill('a-brand-new-passphrase');
    await b.page.getByRole('button', { name: 'Change password' }).click();
    const problem = b.page.locator('form[aria-labelledby="profile-password"] .error');
    await problem.waitFor();
    assert.ok((await problem.textContent()).trim().length > 5);
    await screenshot(b.page, 'profile');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
