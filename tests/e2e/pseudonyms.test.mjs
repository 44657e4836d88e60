// Pseudonyms in a patient forum in the browser: a member reads another member's approved post
// under a pseudonym (no name, no link to a profile) and is told the name they go by; the forum's
// owner sees in the members panel whose pseudonym is whose.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace, addMember } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer, post } from './browser.mjs';

let server, users;

test.before(async () => {
  ({ server, users } = await startAppServer(['ana', 'bo', 'cy']));
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('members of a patient forum read each other under pseudonyms; its owner can tell who is who', async () => {
  const forum = await createSpace(users.ana, { name: 'Recovery circle', kind: 'community', template: 'patient-forum' });
  await addMember(users.ana, forum.id, users.bo.user.id);
  await addMember(users.ana, forum.id, users.cy.user.id);
  const held = await post(users.bo, forum.id, { kind: 'discussion', title: 'First walk', body: 'Ten minutes around the block today' });
  const approved = await users.ana.post(`/api/v1/messages/${held.id}/moderate`, { action: 'approve', reason: 'welcome' });
  assert.equal(approved.status, 200, approved.text);
  const boName = (await users.bo.get(`/api/v1/spaces/${forum.id}`)).body.my_pseudonym;
  const cyName = (await users.cy.get(`/api/v1/spaces/${forum.id}`)).body.my_pseudonym;
  assert.match(boName, /^[A-Z][a-z]+ [A-Z][a-z]+ \d+$/);
  assert.notEqual(boName, cyName);

  const member = await openBrowser();
  const owner = await openBrowser();
  try {
    await signIn(member.page, server.baseUrl, 'cy');
    await member.page.goto(`${server.baseUrl}/#/space/${forum.id}`);
    await member.page.getByText('Ten minutes around the block today').waitFor();
    await member.page.locator('.pseudonym-note').getByText(cyName).waitFor();
    const author = member.page.locator('.author', { hasText: boName }).first();
    await author.waitFor();
    assert.equal(await author.evaluate((el) => el.tagName), 'SPAN', 'a pseudonym does not link to a profile');
    const body = await member.page.locator('body').innerText();
    assert.ok(!body.includes('User bo'), 'the name never shows');
    await member.page.getByRole('button', { name: 'Members' }).click();
    const memberRows = member.page.locator('.member-list');
    await memberRows.getByText(boName).waitFor();
    assert.ok(!(await memberRows.innerText()).includes('User bo'));

    await signIn(owner.page, server.baseUrl, 'ana');
    await owner.page.goto(`${server.baseUrl}/#/space/${forum.id}`);
    await owner.page.getByRole('button', { name: 'Members' }).click();
    const row = owner.page.locator('.member-row', { hasText: boName });
    await row.getByText('User bo · @bo').waitFor();
    assert.deepEqual(member.errors, []);
    assert.deepEqual(owner.errors, []);
  } finally {
    await member.close();
    await owner.close();
  }
});
