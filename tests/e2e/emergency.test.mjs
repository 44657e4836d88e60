// Emergency access ("break the glass") in the browser: a nurse who is not a member of a private
// clinical channel opens it with a reason and her password, reads it under a banner, and ends it;
// a compliance officer is alerted live, sees the grant, and reviews it once it is over; the audit
// trail holds the start, the stop and the reads. A wrong password opens nothing; a revoked grant
// sends its holder out of the space; the screens work at phone width with every control labelled.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace, addMember } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer, fetchFromPage, messageWith, post, screenshot, unlabelledControls, PASSWORD } from './browser.mjs';

let server, admin, users, compliance, channel;
const REASON = 'Covering ICU tonight, patient in bed 4 deteriorating';
const HANDOVER = 'Bed 4 handover: observations every 30 minutes overnight';

test.before(async () => {
  ({ server, admin, users } = await startAppServer(['ana', 'bo', 'cy']));
  compliance = await makeOfficer();
  // A private channel of the ICU team, under the clinical-team policy (patient information allowed).
  channel = await createSpace(users.ana, { name: 'icu-handover', kind: 'channel', visibility: 'private', join_policy: 'invite', topic: 'Night handover' });
  await addMember(users.ana, channel.id, users.cy.user.id);
  const { items } = await ok(compliance.get('/api/v1/templates'));
  const clinical = items.filter((t) => t.key === 'clinical-team').sort((a, b) => b.version - a.version)[0];
  assert.ok(clinical, `a clinical-team template among ${items.map((t) => t.key).join(', ')}`);
  await ok(compliance.post(`/api/v1/spaces/${channel.id}/template`, { key: 'clinical-team', version: clinical.version, reason: 'ICU handover holds patient information' }));
  await post(users.ana, channel.id, { body: HANDOVER });
  assert.equal((await users.bo.get(`/api/v1/spaces/${channel.id}`)).status, 404, 'bo cannot read the channel otherwise');
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

async function makeOfficer() {
  const res = await admin.post('/api/v1/users', {
    username: 'cora', display_name: 'Cora Compliance', email: 'cora@example.org', job_role: 'Compliance Officer',
    password: PASSWORD, is_compliance: true,
  });
  assert.equal(res.status, 201, res.text);
  const client = server.client();
  await client.login('cora', PASSWORD);
  return client;
}

async function ok(promise, status = 200) {
  const res = await promise;
  assert.equal(res.status, status, `${res.status} ${res.text}`);
  return res.body;
}

const noSideways = async (page, where) => {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling on ${where} (scrollWidth ${width})`);
};

/** From the Emergency access screen: finds the channel and opens its form. */
async function chooseChannel(page) {
  await page.getByLabel('Space name', { exact: true }).fill('icu');
  await page.getByRole('list', { name: 'Spaces you can open with emergency access' }).getByRole('button', { name: /icu-handover/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Emergency access to # icu-handover' });
  await dialog.waitFor();
  return dialog;
}

test('a wrong password shows an error and opens nothing', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.getByRole('link', { name: 'Emergency access' }).click();
    await b.page.getByRole('heading', { name: 'Emergency access', level: 1 }).waitFor();
    const found = b.page.getByRole('list', { name: 'Spaces you can open with emergency access' });
    await found.getByRole('button', { name: /icu-handover/ }).waitFor();
    assert.match(await found.textContent(), /Clinical team/);
    const dialog = await chooseChannel(b.page);
    assert.match(await dialog.textContent(), /This is recorded, the privacy office is alerted at once, and every grant is reviewed\./);
    assert.equal(await dialog.getByLabel('Authentication code').count(), 0, 'no code without two-step sign-in');

    // Too short a reason is refused on the spot: nothing is sent.
    await dialog.getByLabel('Reason', { exact: true }).fill('urgent');
    await dialog.getByLabel('Your password').fill('not my password');
    await dialog.getByRole('button', { name: 'Open with emergency access' }).click();
    await dialog.locator('.field-error', { hasText: 'at least 10 characters' }).waitFor();

    await dialog.getByLabel('Reason', { exact: true }).fill(REASON);
    await dialog.getByLabel('Your password').fill('not my password');
    const answered = b.page.waitForResponse((r) => r.url().endsWith('/api/v1/emergency-access') && r.request().method() === 'POST');
    await dialog.getByRole('button', { name: 'Open with emergency access' }).click();
    assert.equal((await answered).status(), 403);
    const password = dialog.getByLabel('Your password');
    const error = dialog.locator('.field-error');
    await error.waitFor();
    assert.match(await error.textContent(), /password/i);
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.match(await password.getAttribute('aria-describedby'), new RegExp(await error.getAttribute('id')));
    assert.equal(await password.inputValue(), '');
    await screenshot(b.page, 'emergency-wrong-password');
    assert.match(b.page.url(), /#\/emergency$/, 'still on the Emergency access screen');

    const mine = await fetchFromPage(b.page, '/api/v1/emergency-access?scope=mine');
    assert.deepEqual(mine.body.items, [], 'no grant');
    assert.equal((await fetchFromPage(b.page, `/api/v1/spaces/${channel.id}`)).status, 404);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a nurse reads a channel in an emergency and ends it; the officer is alerted and reviews it', async () => {
  const nurse = await openBrowser();
  const officer = await openBrowser();
  try {
    await signIn(officer.page, server.baseUrl, 'cora');
    await officer.page.goto(`${server.baseUrl}/#/compliance/emergency`);
    await officer.page.getByRole('heading', { name: 'Emergency access', level: 2 }).waitFor();
    await officer.page.getByText('Nobody has used emergency access.').waitFor();

    await signIn(nurse.page, server.baseUrl, 'bo');
    await nurse.page.goto(`${server.baseUrl}/#/emergency`);
    const dialog = await chooseChannel(nurse.page);
    await dialog.getByLabel('Reason', { exact: true }).fill(REASON);
    assert.equal(await dialog.getByLabel('Duration').inputValue(), '60');
    await dialog.getByLabel('Duration').selectOption('30');
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Open with emergency access' }).click();

    // The space, read-only under the banner, with the members' messages.
    await nurse.page.waitForURL(new RegExp(`#/space/${channel.id}$`));
    await messageWith(nurse.page, HANDOVER).waitFor();
    const banner = nurse.page.locator('.emergency-banner').getByRole('alert');
    assert.match(await banner.textContent(), /^Emergency access — ends at .+\. Every read is recorded and reviewed\.$/);
    assert.equal(await nurse.page.getByLabel('Message', { exact: true }).count(), 0, 'no composer');
    assert.equal(await nurse.page.getByRole('button', { name: /^Join/ }).count(), 0, 'no joining');
    assert.equal(await nurse.page.getByRole('button', { name: 'Members' }).count(), 0);
    await messageWith(nurse.page, HANDOVER).hover();
    assert.equal(await messageWith(nurse.page, HANDOVER).getByRole('button', { name: 'Add reaction' }).count(), 0, 'no reacting');
    const { items: [grant] } = (await fetchFromPage(nurse.page, '/api/v1/emergency-access?scope=mine')).body;
    assert.equal(grant.active, true);
    assert.equal(grant.expires_at - grant.started_at, 30 * 60_000);
    assert.equal(grant.reason, REASON);
    await screenshot(nurse.page, 'emergency-space');

    // A member posts meanwhile: no live events reach the grant's holder, Refresh shows it.
    const later = 'Bed 4 moved to HDU at 03:00';
    await post(users.ana, channel.id, { body: later });
    await nurse.page.getByRole('button', { name: 'Refresh' }).click();
    await messageWith(nurse.page, later).waitFor();

    // The officer hears of it at once, and the list on screen shows it.
    await officer.page.locator('.toast', { hasText: 'Emergency access opened by User bo in # icu-handover' }).waitFor();
    const row = officer.page.locator(`.grants-table tr[data-grant-id="${grant.id}"]`);
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /User bo/);
    assert.match(text, /# icu-handover/);
    assert.match(text, new RegExp(REASON));
    assert.match(text, /Active until/);
    await row.getByRole('button', { name: /^Revoke/ }).waitFor();
    await screenshot(officer.page, 'emergency-compliance-active');

    // The nurse ends it: back on the Emergency access screen, told so, and the space is closed to her.
    await nurse.page.locator('.emergency-banner').getByRole('button', { name: 'End now' }).click();
    await nurse.page.waitForURL(/#\/emergency$/);
    await nurse.page.locator('.toast', { hasText: 'You ended your emergency access to # icu-handover.' }).waitFor();
    const past = nurse.page.getByRole('list', { name: 'Past' });
    await past.getByText(/Ended .* by you/).waitFor();
    assert.match(await past.textContent(), /Awaiting review/);
    await screenshot(nurse.page, 'emergency-screen');
    await nurse.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await nurse.page.getByRole('heading', { name: 'This space is not available' }).waitFor();
    assert.equal((await fetchFromPage(nurse.page, `/api/v1/spaces/${channel.id}/messages`)).status, 404);

    // The officer's list follows: it can be reviewed now, and it is among those awaiting review.
    await row.getByRole('button', { name: /^Review/ }).waitFor();
    assert.match(await row.textContent(), /Ended .* by User bo/);
    const unreviewed = officer.page.waitForResponse((r) => r.url().includes('state=unreviewed'));
    await officer.page.getByLabel('Show', { exact: true }).selectOption({ label: 'Awaiting review' });
    await unreviewed;
    await row.getByRole('button', { name: /^Review/ }).click();
    const review = officer.page.getByRole('dialog', { name: "Review User bo's emergency access" });
    await review.getByRole('radio', { name: /Justified/ }).check();
    await review.getByLabel('Note (optional)').fill('Confirmed with the charge nurse on duty');
    await review.getByRole('button', { name: 'Save review' }).click();
    await officer.page.getByRole('status').filter({ hasText: "Reviewed User bo's emergency access to icu-handover: justified." }).waitFor();
    await row.waitFor({ state: 'detached' });  // no longer awaiting review
    await officer.page.getByLabel('Show', { exact: true }).selectOption({ label: 'All' });
    await row.waitFor();
    assert.match(await row.textContent(), /Justified.*by Cora Compliance.*Confirmed with the charge nurse on duty/);
    await screenshot(officer.page, 'emergency-compliance-reviewed');

    // The audit trail: the start, the failed attempt of the test before, the stop, the review,
    // and the reads under the grant (their usual names, the break-the-glass reason).
    await officer.page.goto(`${server.baseUrl}/#/compliance/audit`);
    await officer.page.getByLabel('Action', { exact: true }).fill('emergency.start');
    const searched = officer.page.waitForResponse((r) => r.url().includes('/api/v1/audit?') && r.url().includes('emergency.start'));
    await officer.page.getByRole('button', { name: 'Search' }).click();
    await searched;
    await officer.page.locator('.audit-table tbody tr', { hasText: 'emergency.start' }).first().waitFor();
    for (const line of await officer.page.locator('.audit-table tbody tr').allTextContents()) assert.match(line, /emergency\.start/);

    const bo = users.bo.user.id;
    const records = (await ok(compliance.get(`/api/v1/audit?action=emergency.&actor_id=${bo}&limit=50`))).items;
    const starts = records.filter((r) => r.action === 'emergency.start');
    assert.ok(starts.some((r) => r.outcome === 'success' && r.object_id === String(channel.id)), 'the start is recorded');
    assert.ok(starts.some((r) => r.outcome !== 'success'), 'the wrong password is recorded');
    assert.equal(records.filter((r) => r.action === 'emergency.stop' && r.outcome === 'success').length, 1, 'the stop is recorded');
    const reviews = (await ok(compliance.get('/api/v1/audit?action=emergency.review'))).items;
    assert.equal(reviews.length, 1);
    const reads = (await ok(compliance.get(`/api/v1/audit?action=message.list&actor_id=${bo}&limit=50`))).items;
    assert.ok(reads.some((r) => r.reason === 'break-the-glass'), `reads under the grant are recorded: ${JSON.stringify(reads.map((r) => r.reason))}`);
    assert.deepEqual(nurse.errors, []);
    assert.deepEqual(officer.errors, []);
  } finally {
    await nurse.close();
    await officer.close();
  }
});

test('a revoked grant sends its holder out of the space; the screens fit a phone with every control labelled', async () => {
  const nurse = await openBrowser({ width: 375, height: 740 });
  const officer = await openBrowser({ width: 375, height: 740 });
  try {
    await signIn(nurse.page, server.baseUrl, 'bo');
    await nurse.page.goto(`${server.baseUrl}/#/emergency`);
    await nurse.page.getByRole('heading', { name: 'Your emergency access' }).waitFor();
    await nurse.page.getByRole('list', { name: 'Past' }).waitFor();
    await noSideways(nurse.page, 'the Emergency access screen');
    assert.deepEqual(await unlabelledControls(nurse.page), []);
    const dialog = await chooseChannel(nurse.page);
    assert.deepEqual(await unlabelledControls(nurse.page), [], 'the form');
    await noSideways(nurse.page, 'the form');
    await screenshot(nurse.page, 'emergency-phone-form');
    await dialog.getByLabel('Reason', { exact: true }).fill('Night cover for bed 4, deteriorating again');
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Open with emergency access' }).click();
    await messageWith(nurse.page, HANDOVER).waitFor();
    await noSideways(nurse.page, 'the space under emergency access');
    await screenshot(nurse.page, 'emergency-phone-space');

    await signIn(officer.page, server.baseUrl, 'cora');
    await officer.page.goto(`${server.baseUrl}/#/compliance/emergency`);
    const row = officer.page.locator('.grants-table tbody tr', { hasText: 'Night cover for bed 4' });
    await row.waitFor();
    await noSideways(officer.page, 'the compliance section');
    assert.deepEqual(await unlabelledControls(officer.page), []);
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await officer.page.getByRole('dialog').getByRole('button', { name: 'Revoke', exact: true }).click();
    await officer.page.getByRole('status').filter({ hasText: /Revoked User bo's emergency access/ }).waitFor();

    // The holder is told at once and leaves the space.
    await nurse.page.waitForURL(/#\/emergency$/);
    await nurse.page.locator('.toast', { hasText: 'A compliance officer revoked your emergency access to # icu-handover.' }).waitFor();
    await nurse.page.getByRole('list', { name: 'Past' }).getByText(/Revoked .* by Cora Compliance/).waitFor();
    assert.match(await row.textContent(), /Revoked .* by you/);  // the officer's own words for it
    await row.getByRole('button', { name: /^Review/ }).click();
    const review = officer.page.getByRole('dialog');
    await review.getByRole('radio', { name: /Unjustified/ }).check();
    assert.deepEqual(await unlabelledControls(officer.page), [], 'the review form');
    await review.getByRole('button', { name: 'Save review' }).click();
    await review.locator('.field-error', { hasText: 'Say why it was not justified' }).waitFor();
    await review.getByLabel('Note', { exact: true }).fill('Not a patient of the unit');
    await review.getByRole('button', { name: 'Save review' }).click();
    await review.waitFor({ state: 'detached' });
    await row.getByText('Unjustified').waitFor();
    assert.deepEqual(nurse.errors, []);
    assert.deepEqual(officer.errors, []);
  } finally {
    await nurse.close();
    await officer.close();
  }
});
