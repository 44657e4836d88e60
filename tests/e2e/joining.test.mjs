// Joining on request in the browser: a space whose template admits people on request shows
// "Ask to join" to a non-member; its owner sees the request arrive in the members panel and
// approves it, and the asker's view turns into a member's without a reload.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer, unlabelledControls } from './browser.mjs';

let server, users;

test.before(async () => {
  ({ server, users } = await startAppServer(['ana', 'bo']));
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('a space joined on request: asked in the browser, approved by its owner, live for the asker', async () => {
  const forum = await createSpace(users.ana, { name: 'Recovery circle', kind: 'community', template: 'patient-forum' });
  const owner = await openBrowser();
  const asker = await openBrowser();
  try {
    await signIn(owner.page, server.baseUrl, 'ana');
    await owner.page.goto(`${server.baseUrl}/#/space/${forum.id}`);
    await owner.page.getByRole('button', { name: 'Members' }).click();
    await owner.page.getByRole('heading', { name: /^Members/ }).waitFor();

    await signIn(asker.page, server.baseUrl, 'bo');
    await asker.page.goto(`${server.baseUrl}/#/space/${forum.id}`);
    const bar = asker.page.locator('.join-bar');
    await bar.getByText('Its policy admits people on request').waitFor();
    assert.equal(await bar.getByRole('button', { name: /^Join/ }).count(), 0, 'no walking in');
    await bar.getByRole('button', { name: 'Ask to join' }).click();
    await bar.getByText('You asked to join this community').waitFor();
    assert.ok(await bar.getByRole('button', { name: 'Withdraw request' }).isVisible());

    // The owner's open panel lists the request as it arrives, and approves it.
    const requests = owner.page.getByRole('region', { name: /Asking to join/ });
    await requests.getByText('User bo').waitFor();
    assert.deepEqual(await unlabelledControls(owner.page), []);
    await requests.getByRole('button', { name: 'Approve User bo' }).click();
    await requests.waitFor({ state: 'detached' });
    // The forum shows its members under pseudonyms; its owner sees whose each is.
    await owner.page.locator('.member-list').getByText('User bo · @bo').waitFor();

    // The asker is a member now, without reloading: the join bar is gone and they can post.
    await bar.waitFor({ state: 'detached' });
    await asker.page.getByRole('button', { name: /Start a post/ }).waitFor();
    const members = await users.ana.get(`/api/v1/spaces/${forum.id}/members`);
    assert.ok(members.body.items.some((m) => m.account?.id === users.bo.user.id && m.user_id < 0 && m.role === 'member'));
    assert.deepEqual(owner.errors, []);
    assert.deepEqual(asker.errors, []);
  } finally {
    await owner.close();
    await asker.close();
  }
});
