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
  // No account id of a member reaches the others: authors, members and mentions carry the id
  // each goes by in this forum, below zero.
  const boId = (await users.bo.get(`/api/v1/spaces/${forum.id}`)).body.my_member_id;
  assert.ok(boId < 0, `${boId}`);
  const page = await users.cy.get(`/api/v1/spaces/${forum.id}/messages`);
  assert.equal(page.status, 200);
  assert.deepEqual(page.body.items.map((m) => [m.author_id, m.author.id]), [[boId, boId]]);
  const members = await users.cy.get(`/api/v1/spaces/${forum.id}/members`);
  assert.ok(members.body.items.every((m) => m.user_id < 0 && m.user.id < 0 && !m.account), JSON.stringify(members.body));
  assert.ok(!JSON.stringify(members.body).includes(`"user_id":${users.bo.user.id},`));

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
    // The owner goes by a pseudonym too, and is told which row is theirs.
    const anaName = (await users.ana.get(`/api/v1/spaces/${forum.id}`)).body.my_pseudonym;
    await owner.page.locator('.member-row', { hasText: anaName }).getByText('(you)').waitFor();
    // Roles are changed by the id the member is listed by, which is not their account's.
    await owner.page.getByLabel(`Role of ${boName}`).selectOption('read_only');
    await owner.page.waitForFunction(async ([id, name]) => {
      const r = await fetch(`/api/v1/spaces/${id}/members`);
      const body = await r.json();
      return body.items.some((m) => m.pseudonym === name && m.role === 'read_only');
    }, [forum.id, boName]);
    assert.deepEqual(member.errors, []);
    assert.deepEqual(owner.errors, []);
  } finally {
    await member.close();
    await owner.close();
  }
});
