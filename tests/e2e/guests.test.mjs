// A guest in the browser: an account from outside the organization, added to one channel whose
// policy allows guests. The guest sees that channel and nothing else the organization has (no
// people directory, no discovery, no creating spaces), posts in it, and the owner sees the post
// live; adding the guest to a space whose policy does not allow guests is refused with its reason.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace, addMember, createOfficer, assignNewVersion, PASSWORD } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer } from './browser.mjs';

let server, admin, users;

test.before(async () => {
  ({ server, admin, users } = await startAppServer(['ana']));
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('a guest reaches only the channel they were added to, where its policy allows guests', async () => {
  const made = await admin.post('/api/v1/users', {
    username: 'vic', display_name: 'Vic Vendor', email: 'vic@example.com', job_role: 'Implementation consultant',
    password: PASSWORD, is_guest: true,
  });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.body.is_guest, true);
  const guestId = made.body.id;

  const golive = await createSpace(users.ana, { name: 'EHR go-live', kind: 'channel', visibility: 'private' });
  const community = await createSpace(users.ana, { name: 'Nursing practice', kind: 'community' });
  const refused = await users.ana.post(`/api/v1/spaces/${golive.id}/members`, { user_id: guestId });
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.body.code, 'guests_not_allowed');
  const officer = await createOfficer(server, admin);
  await assignNewVersion(officer, golive.id, 'internal-community', (doc) => ({ ...doc, guests_allowed: true }), 'vendor on site');
  await addMember(users.ana, golive.id, guestId);

  const guest = await openBrowser();
  const owner = await openBrowser();
  try {
    await signIn(owner.page, server.baseUrl, 'ana');
    await owner.page.goto(`${server.baseUrl}/#/space/${golive.id}`);
    await owner.page.getByRole('heading', { name: 'EHR go-live' }).waitFor();

    await signIn(guest.page, server.baseUrl, 'vic');
    const sidebar = guest.page.getByRole('navigation', { name: 'Spaces and places' });
    await sidebar.getByRole('link', { name: 'EHR go-live' }).waitFor();
    assert.equal(await sidebar.getByRole('link', { name: 'Nursing practice' }).count(), 0);
    for (const place of ['People', 'Discover', 'Emergency access']) {
      assert.equal(await sidebar.getByRole('link', { name: place }).count(), 0, place);
    }
    assert.equal(await sidebar.getByRole('button', { name: /^Create a|^Start a direct/ }).count(), 0);

    await sidebar.getByRole('link', { name: 'EHR go-live' }).click();
    const composer = guest.page.getByRole('textbox', { name: /Message/ });
    await composer.fill('Interface cut-over moved to 02:00');
    await composer.press('Enter');
    await owner.page.getByText('Interface cut-over moved to 02:00').first().waitFor();
    // Staff see who in the channel is from outside.
    await owner.page.getByRole('button', { name: 'Members' }).click();
    await owner.page.locator('.member-row', { hasText: 'Vic Vendor' }).locator('.guest-chip').waitFor();
    assert.equal(await owner.page.locator('.member-row', { hasText: 'User ana' }).locator('.guest-chip').count(), 0);

    // The public community is not public to a guest, even by its address.
    await guest.page.goto(`${server.baseUrl}/#/space/${community.id}`);
    await guest.page.getByRole('heading', { name: 'This space is not available' }).waitFor();
    assert.equal(await guest.page.getByRole('heading', { name: 'Nursing practice' }).count(), 0);
    assert.deepEqual(guest.errors, []);
    assert.deepEqual(owner.errors, []);
  } finally {
    await guest.close();
    await owner.close();
  }
});
