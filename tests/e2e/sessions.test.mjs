// Where a person is signed in: the profile lists every live session of the account; ending one
// from another browser returns that browser to sign-in at once (the server closes its event
// stream), ending all the others also stops an API client's token, and a new e-mail address takes
// the current password.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN } from '../lib/server.mjs';
import { administer, openBrowser, signIn, startAppServer, screenshot, unlabelledControls, PASSWORD, fetchFromPage } from './browser.mjs';

// Another test run may be using a core meanwhile: give the browser room.
const WAIT = 20_000;
const SECTION = "Where you're signed in";

let server, admin;

test.before(async () => {
  ({ server, admin } = await startAppServer([]));
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

/** A staff account with no session yet (the shared fixture's accounts come with an API client's). */
async function addAccount(username) {
  const res = await admin.post('/api/v1/users', {
    username, display_name: `User ${username}`, email: `${username}@example.org`,
    job_role: 'Registered Nurse', password: PASSWORD,
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function browser() {
  const b = await openBrowser();
  b.context.setDefaultTimeout(WAIT);
  return b;
}

/** Waits until the locator matches exactly `n` elements; fails naming the last count seen. */
async function waitForCount(locator, n, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let count;
  while (Date.now() < deadline) {
    count = await locator.count();
    if (count === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${n} matching elements, last saw ${count}`);
}

async function openSessions(page) {
  await page.goto(`${server.baseUrl}/#/profile`);
  const section = page.getByRole('region', { name: SECTION });
  await section.waitFor();
  return section;
}

test('a session ended from another browser goes to sign-in without a reload, and leaves the list', async () => {
  await addAccount('ana');
  const a = await browser();
  const b = await browser();
  try {
    await signIn(a.page, server.baseUrl, 'ana');
    await signIn(b.page, server.baseUrl, 'ana');
    const bUserAgent = await b.page.evaluate(() => navigator.userAgent);
    const bSession = (await fetchFromPage(b.page, '/api/v1/me/sessions')).body.items.find((s) => s.current);
    assert.ok(bSession, 'B sees its own session as the current one');

    const section = await openSessions(a.page);
    const rows = section.getByTestId('session');
    await waitForCount(rows, 2);
    const mine = rows.filter({ hasText: 'This device' });
    assert.equal(await mine.count(), 1, 'one row is this device');
    assert.equal(await mine.getByRole('button').count(), 0, 'this device has no button to end it');
    assert.equal(await rows.first().locator('.pill').textContent(), 'This device', 'this device comes first');

    const bRow = section.locator(`[data-session-id="${bSession.id}"]`);
    assert.doesNotMatch(await bRow.textContent(), /This device/);
    const device = bRow.locator('strong');
    assert.equal((await device.textContent()).trim(), 'Chrome on Linux');
    assert.equal(await device.getAttribute('title'), bUserAgent, 'the raw user agent is kept in the title');
    assert.match(await bRow.textContent(), /127\.0\.0\.1/);
    assert.match(await bRow.textContent(), /Signed in/);
    assert.match(await bRow.textContent(), /Last active/);
    await section.getByRole('button', { name: 'End all other sessions' }).waitFor();
    assert.deepEqual(await unlabelledControls(a.page), []);
    await section.scrollIntoViewIfNeeded();
    await screenshot(a.page, 'profile-sessions');

    // B stays where it is: only the server's closing of its event stream can bring sign-in.
    assert.equal(await b.page.locator('.status-live').count(), 1);
    await b.page.evaluate(() => { window.sameDocument = true; });
    await bRow.getByRole('button', { name: 'End session' }).click();
    await section.getByRole('status').filter({ hasText: 'Ended the session on Chrome on Linux' }).waitFor();

    await b.page.getByLabel('Username').waitFor({ timeout: WAIT });
    await b.page.getByText('Your session has ended').waitFor();
    assert.equal(await b.page.evaluate(() => window.sameDocument), true, 'sign-in came without a reload');
    assert.equal(await b.page.locator('.sidebar').count(), 0, 'nothing of the session is left on screen');
    assert.equal((await fetchFromPage(b.page, '/api/v1/me')).status, 401, 'B\'s cookie no longer signs in');
    await b.page.goto(`${server.baseUrl}/#/profile`);
    await b.page.getByLabel('Username').waitFor();

    await waitForCount(rows, 1);
    assert.equal(await mine.count(), 1, 'what is left is this device');
    assert.equal(await section.getByRole('button', { name: 'End all other sessions' }).count(), 0);
    const left = await fetchFromPage(a.page, '/api/v1/me/sessions');
    assert.equal(left.status, 200, 'A is still signed in');
    assert.deepEqual(left.body.items.map((s) => s.current), [true]);
    assert.equal(await a.page.locator('.status-live').count(), 1);
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('"End all other sessions" ends the other browser and an API client, and says how many', async () => {
  await addAccount('bo');
  const a = await browser();
  const b = await browser();
  try {
    await signIn(a.page, server.baseUrl, 'bo');
    await signIn(b.page, server.baseUrl, 'bo');
    const client = server.client();
    await client.login('bo', PASSWORD);
    assert.equal((await client.get('/api/v1/me')).status, 200);

    const section = await openSessions(a.page);
    const rows = section.getByTestId('session');
    await waitForCount(rows, 3);
    assert.equal(await rows.filter({ hasText: 'API client' }).count(), 1, 'the bearer session is an API client');
    assert.equal(await rows.filter({ hasText: 'This device' }).count(), 1);
    assert.equal(await rows.getByRole('button', { name: 'End session' }).count(), 2, 'each other session can be ended');

    await section.getByRole('button', { name: 'End all other sessions' }).click();
    const report = section.getByRole('status');
    await report.waitFor();
    assert.equal((await report.textContent()).trim(), 'Ended 2 other sessions. They are signed out.');

    const refused = await client.get('/api/v1/me');
    assert.equal(refused.status, 401, 'the API client\'s token no longer works');
    await b.page.getByLabel('Username').waitFor({ timeout: WAIT });
    await waitForCount(rows, 1);
    assert.equal(await section.getByRole('button', { name: 'End all other sessions' }).count(), 0);
    assert.equal((await fetchFromPage(a.page, '/api/v1/me')).status, 200, 'this browser is still signed in');
    assert.deepEqual(a.errors, []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a new e-mail address takes the current password; a new display name does not', async () => {
  await addAccount('cy');
  const a = await browser();
  try {
    await signIn(a.page, server.baseUrl, 'cy');
    await a.page.goto(`${server.baseUrl}/#/profile`);
    const form = a.page.locator('form[aria-labelledby="profile-details"]');
    const email = form.getByLabel('E-mail');
    const password = form.getByLabel('Current password');
    await email.waitFor();
    assert.equal(await password.count(), 0, 'no password asked while the address is unchanged');

    await email.fill('cy.new@example.org');
    await password.waitFor();
    assert.equal(await password.getAttribute('type'), 'password');
    assert.equal(await password.getAttribute('autocomplete'), 'current-password');
    assert.equal(await password.evaluate((el) => el.required), true);
    await form.getByText('Changing your e-mail address needs your current password.').waitFor();
    assert.deepEqual(await unlabelledControls(a.page), []);

    await password.fill('not the right password at all');
    await form.getByRole('button', { name: 'Save profile' }).click();
    const problem = form.locator('.error[role="alert"]');
    await problem.waitFor();
    assert.ok((await problem.textContent()).trim().length > 5, 'the refusal is explained');
    assert.equal(await password.inputValue(), '', 'the wrong password is cleared');
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    let me = await fetchFromPage(a.page, '/api/v1/me');
    assert.equal(me.status, 200, 'a wrong password is not a lost session');
    assert.equal(me.body.user.email, 'cy@example.org', 'the stored address is unchanged');

    await password.fill(PASSWORD);
    await form.getByRole('button', { name: 'Save profile' }).click();
    await form.getByRole('status').filter({ hasText: 'Profile saved.' }).waitFor();
    me = await fetchFromPage(a.page, '/api/v1/me');
    assert.equal(me.body.user.email, 'cy.new@example.org');
    await waitForCount(password, 0);

    // Only the display name: saved with no password asked or sent.
    const patches = [];
    a.page.on('request', (r) => { if (r.method() === 'PATCH' && r.url().endsWith('/api/v1/me')) patches.push(r.postDataJSON()); });
    await form.getByLabel('Display name').fill('Charge Nurse Cy');
    assert.equal(await password.count(), 0);
    await form.getByRole('button', { name: 'Save profile' }).click();
    await a.page.locator('.topbar').getByText('Charge Nurse Cy').waitFor();
    assert.deepEqual(patches, [{ display_name: 'Charge Nurse Cy', email: 'cy.new@example.org' }]);
    me = await fetchFromPage(a.page, '/api/v1/me');
    assert.equal(me.body.user.display_name, 'Charge Nurse Cy');
    assert.equal(me.body.user.email, 'cy.new@example.org');

    // The server's side of it, from an API client: no password, no new address.
    const client = server.client();
    await client.login('cy', PASSWORD);
    const refused = await client.patch('/api/v1/me', { email: 'cy.third@example.org' });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.code, 'reauthentication_required');
    const unchanged = await client.patch('/api/v1/me', { display_name: 'Cy', email: 'cy.new@example.org' });
    assert.equal(unchanged.status, 200, 'the same address again needs no password');
    assert.deepEqual(a.errors, []);
  } finally {
    await a.close();
  }
});

test('an administrator ends all of someone\'s sessions from their page; that browser goes to sign-in', async () => {
  const ben = await addAccount('ben');
  const own = await browser();
  const adminBrowser = await browser();
  try {
    await signIn(own.page, server.baseUrl, 'ben');
    await signIn(adminBrowser.page, server.baseUrl, ADMIN.username, ADMIN.password);
    await adminBrowser.page.goto(`${server.baseUrl}/#/people/${ben.id}`);
    // An administrator's account acts as staff until it confirms the password: no account actions yet.
    await adminBrowser.page.getByRole('heading', { name: 'Manage this account' }).waitFor();
    assert.equal(await adminBrowser.page.getByRole('button', { name: 'End all sessions' }).count(), 0);
    await administer(adminBrowser.page, ADMIN.password);
    assert.match(await adminBrowser.page.locator('.admin-badge').textContent(), /^Administering until \d{2}:\d{2}/);
    await adminBrowser.page.getByRole('button', { name: 'End all sessions' }).click();
    const dialog = adminBrowser.page.getByRole('dialog');
    await dialog.getByRole('heading', { name: "End all of User ben's sessions?" }).waitFor();
    await dialog.getByRole('button', { name: 'End all sessions' }).click();
    await adminBrowser.page.getByRole('status').filter({ hasText: 'User ben was signed out of 1 session.' }).waitFor();
    await own.page.getByLabel('Username').waitFor({ timeout: WAIT });
    assert.equal((await fetchFromPage(own.page, '/api/v1/me')).status, 401);
    await signIn(own.page, server.baseUrl, 'ben');
    assert.equal((await fetchFromPage(own.page, '/api/v1/me')).body.user.username, 'ben', 'the account is not disabled');
    // A reload keeps it (it is the session's); stopping it takes the account actions away.
    await adminBrowser.page.reload();
    await adminBrowser.page.locator('.admin-badge').waitFor();
    await adminBrowser.page.getByRole('button', { name: 'Stop administering' }).click();
    await adminBrowser.page.getByRole('heading', { name: 'Manage this account' }).waitFor();
    assert.equal(await adminBrowser.page.locator('.admin-badge').count(), 0);
    const me = await fetchFromPage(adminBrowser.page, '/api/v1/me');
    assert.equal(me.body.session.admin_elevation_left_ms, 0, 'the server agrees');
    assert.deepEqual(adminBrowser.errors, []);
  } finally {
    await own.close();
    await adminBrowser.close();
  }
});
