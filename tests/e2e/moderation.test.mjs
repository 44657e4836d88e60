// The review queue in the browser is live for a compliance officer, who is a member of none of
// the spaces it shows: a report and a held post made by others appear without a reload, and a
// decision a space's moderator makes elsewhere takes its item off. A moderator's queue opens on a
// space where something waits; an appeal is offered to those who may decide it, never to the
// moderator whose decision it contests.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace, addMember, createOfficer } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer } from './browser.mjs';

let server, admin, users, compliance;

test.before(async () => {
  ({ server, admin, users } = await startAppServer(['ana', 'bo', 'cy', 'dee', 'eve']));
  compliance = await createOfficer(server, admin, 'cora');
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

async function ok(promise, status = 200) {
  const res = await promise;
  assert.equal(res.status, status, `${res.status} ${res.text}`);
  return res.body;
}

test('a compliance officer sees reports and held posts arrive in the queue, and decisions take them off, without a reload', async () => {
  // Spaces the officer is not a member of: a community anyone may report in, and a forum whose
  // members' posts wait for a moderator.
  const swap = await createSpace(users.ana, { name: 'Bike swap', kind: 'community' });
  await addMember(users.ana, swap.id, users.bo.user.id);
  await addMember(users.ana, swap.id, users.cy.user.id);
  const forum = await createSpace(users.ana, { name: 'Carers corner', kind: 'community', template: 'patient-forum' });
  await addMember(users.ana, forum.id, users.bo.user.id);
  await ok(compliance.post(`/api/v1/spaces/${forum.id}/template`, { key: 'patient-forum', version: 1, reason: 'Pre-moderated' }));

  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'cora');
    await b.page.goto(`${server.baseUrl}/#/compliance/moderation`);
    await b.page.getByText('Nothing is waiting for review.').waitFor();
    // Marks this document: a reload would make a new one without the mark.
    await b.page.evaluate(() => { window.queueMark = 'not reloaded'; });

    const offer = await ok(users.bo.post(`/api/v1/spaces/${swap.id}/messages`, { body: 'Selling my old bike, cash only' }), 201);
    await ok(users.cy.post(`/api/v1/messages/${offer.id}/report`, { reason: 'selling things' }), 201);
    const reported = b.page.locator('.queue-item', { hasText: 'Selling my old bike' });
    await reported.waitFor();
    assert.equal(await reported.getAttribute('data-message-id'), String(offer.id));
    assert.match(await reported.textContent(), /Bike swap/);
    assert.match(await reported.textContent(), /Reported 1 time/);

    const question = await ok(users.bo.post(`/api/v1/spaces/${forum.id}/messages`, { body: 'Tips for sleeping after a night shift?' }), 201);
    assert.equal(question.state, 'held');
    const held = b.page.locator('.queue-item', { hasText: 'Tips for sleeping' });
    await held.waitFor();
    assert.match(await held.textContent(), /Carers corner/);
    assert.match(await held.textContent(), /Pre-moderated/);

    // The space's owner approves the held post through the API: it leaves the officer's queue,
    // and the report stays.
    await ok(users.ana.post(`/api/v1/messages/${question.id}/moderate`, { action: 'approve', reason: 'Fine to share' }));
    await held.waitFor({ state: 'detached' });
    assert.equal(await reported.count(), 1);

    assert.equal(await b.page.evaluate(() => window.queueMark), 'not reloaded');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a moderator\'s queue opens on the space they moderate where a message waits, not on their first', async () => {
  // Dee moderates two wards; only the second (in the order the queue lists them) has a report.
  const alpha = await createSpace(users.ana, { name: 'Alpha ward', kind: 'community' });
  const beta = await createSpace(users.ana, { name: 'Beta ward', kind: 'community' });
  for (const space of [alpha, beta]) await addMember(users.ana, space.id, users.dee.user.id, 'moderator');
  await addMember(users.ana, beta.id, users.bo.user.id);
  await addMember(users.ana, beta.id, users.cy.user.id);
  const offer = await ok(users.bo.post(`/api/v1/spaces/${beta.id}/messages`, { body: 'Spare parking permits, ask me' }), 201);
  await ok(users.cy.post(`/api/v1/messages/${offer.id}/report`, { reason: 'selling things' }), 201);

  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'dee');
    await b.page.goto(`${server.baseUrl}/#/compliance/moderation`);
    const reported = b.page.locator('.queue-item', { hasText: 'Spare parking permits' });
    await reported.waitFor();
    assert.equal(await reported.getAttribute('data-message-id'), String(offer.id));
    const space = b.page.getByLabel('Space', { exact: true });
    assert.deepEqual(await space.locator('option').allTextContents(), ['Alpha ward', 'Beta ward']);
    assert.equal(await space.inputValue(), String(beta.id));

    // Their own choice of space stands.
    await space.selectOption({ label: 'Alpha ward' });
    await b.page.getByText('Nothing is waiting for review.').waitFor();
    assert.equal(await reported.count(), 0);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('an appeal is offered to another moderator and to compliance officers, not to the moderator who decided', async () => {
  const ward = await createSpace(users.ana, { name: 'Gamma ward', kind: 'community' });
  await addMember(users.ana, ward.id, users.eve.user.id, 'moderator');
  await addMember(users.ana, ward.id, users.bo.user.id);
  const note = await ok(users.bo.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'Rota swap for the weekend?' }), 201);
  const hidden = await ok(users.eve.post(`/api/v1/messages/${note.id}/moderate`, { action: 'hide', reason: 'Use the rota tool' }));
  assert.equal(hidden.moderator_id, users.eve.user.id);
  await ok(users.bo.post(`/api/v1/moderation/actions/${hidden.id}/appeal`, { text: 'The rota tool was down' }));

  // Opens the review queue as `username` (choosing the ward, for someone who works other spaces
  // too) and returns the browser and the appeal's card.
  const appealFor = async (username, { choose = false } = {}) => {
    const b = await openBrowser();
    try {
      await signIn(b.page, server.baseUrl, username);
      await b.page.goto(`${server.baseUrl}/#/compliance/moderation`);
      if (choose) await b.page.getByLabel('Space', { exact: true }).selectOption({ label: 'Gamma ward' });
      const card = b.page.getByRole('region', { name: 'Appeals' }).locator('li', { hasText: 'The rota tool was down' });
      await card.waitFor();
      return { b, card };
    } catch (e) {
      await b.close();
      throw e;
    }
  };
  const decisionButtons = (card) => card.getByRole('button', { name: /^(Uphold|Reverse)$/ });

  // Eve hid the post: the server would refuse her, and she is told who decides.
  let { b, card } = await appealFor('eve');
  try {
    assert.equal(await decisionButtons(card).count(), 0);
    await card.getByText('another moderator or a compliance officer decides the appeal').waitFor();
    assert.equal(await card.getByLabel('Reason for your decision').count(), 0);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }

  // A compliance officer may decide it.
  ({ b, card } = await appealFor('cora'));
  try {
    assert.equal(await decisionButtons(card).count(), 2);
  } finally {
    await b.close();
  }

  // So may the space's owner, and the server takes her decision.
  ({ b, card } = await appealFor('ana', { choose: true }));
  try {
    assert.equal(await decisionButtons(card).count(), 2);
    await card.getByLabel('Reason for your decision').fill('Fair: the tool was down');
    await card.getByRole('button', { name: 'Reverse' }).click();
    await card.waitFor({ state: 'detached' });
    assert.equal(await b.page.getByRole('alert').count(), 0);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
  const decided = (await ok(users.ana.get(`/api/v1/moderation/actions?space_id=${ward.id}`))).items.find((a) => a.id === hidden.id);
  assert.equal(decided.appeal.outcome, 'reversed');
});
