// Two people in two browsers: live messages, unread and mention counts, typing, threads,
// reactions, edits with history, deletes, direct and group messages, paging back through
// history, and a server restart that loses nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace, addMember } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer, waitForText, messageWith, messageAction, screenshot, post } from './browser.mjs';

let server, users, channel, other;
let ana, bo;

test.before(async () => {
  ({ server, users } = await startAppServer(['ana', 'bo', 'cy']));
  channel = await createSpace(users.ana, { name: 'ward-7', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  other = await createSpace(users.ana, { name: 'pharmacy-desk', kind: 'channel' });
  await addMember(users.ana, other.id, users.bo.user.id);
  ana = await openBrowser();
  bo = await openBrowser();
  await signIn(ana.page, server.baseUrl, 'ana');
  await signIn(bo.page, server.baseUrl, 'bo');
});

test.after(async () => {
  await ana?.close();
  await bo?.close();
  await server.stop();
  server.cleanup();
});

const composer = (page, label = 'Message') => page.getByLabel(label, { exact: true });
async function send(page, text, label = 'Message') {
  const box = composer(page, label);
  await box.fill(text);
  await box.press('Enter');
  await messageWith(page, text).waitFor();
}
const badge = (page, spaceId, kind = 'unread-count') => page.locator(`[data-space-id="${spaceId}"] .badge.${kind}`);

test('messages appear live for the other person; unread and mention counts move and clear', async () => {
  await ana.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
  await bo.page.goto(`${server.baseUrl}/#/`);
  await send(ana.page, 'Bed 12 needs a second check');
  await waitForText(badge(bo.page, channel.id), '1');
  await send(ana.page, '@bo can you take bed 14?');
  await waitForText(badge(bo.page, channel.id), '2');
  await waitForText(badge(bo.page, channel.id, 'mention'), '@1');
  await bo.page.locator('.toast', { hasText: 'You were mentioned' }).waitFor();
  assert.match(await bo.page.title(), /^\(2\) Rounds/);

  await bo.page.locator(`[data-space-id="${channel.id}"]`).click();
  await messageWith(bo.page, 'Bed 12 needs a second check').waitFor();
  await bo.page.locator('.unread-divider').waitFor();
  await badge(bo.page, channel.id).waitFor({ state: 'detached' });
  await badge(bo.page, channel.id, 'mention').waitFor({ state: 'detached' });
  // The read marker reaches the server: a fresh load shows nothing unread.
  let unread;
  for (let i = 0; i < 50 && unread !== 0; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    unread = (await users.bo.get('/api/v1/spaces')).body.items.find((s) => s.id === channel.id).unread_count;
  }
  assert.equal(unread, 0);

  await send(bo.page, 'On my way');
  await messageWith(ana.page, 'On my way').waitFor();
  assert.equal(await badge(ana.page, channel.id).count(), 0, 'no unread badge for the space I am looking at');
  await screenshot(bo.page, 'chat');
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('typing shows who is typing', async () => {
  await ana.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
  await bo.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
  await composer(bo.page).waitFor();
  await composer(ana.page).waitFor();
  await composer(bo.page).pressSequentially('Wri', { delay: 30 });
  await ana.page.locator('.typing', { hasText: 'User bo is typing' }).waitFor();
  await composer(bo.page).fill('');
});

test('threads, reactions, edits with history, deletes', async () => {
  await ana.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
  await bo.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
  await send(ana.page, 'Who has the spare bladder scanner?');
  await messageWith(bo.page, 'spare bladder scanner').waitFor();

  // Bo answers in a thread; Ana sees the reply count, opens the thread, and Esc closes it.
  await messageAction(bo.page, 'spare bladder scanner', 'Reply in thread');
  await send(bo.page, 'It is in the dirty utility room', 'Reply');
  const replies = messageWith(ana.page, 'spare bladder scanner').getByRole('button', { name: '1 reply' });
  await replies.click();
  await ana.page.locator('.thread-panel').getByText('It is in the dirty utility room').waitFor();
  await ana.page.keyboard.press('Escape');
  await ana.page.locator('.thread-panel').waitFor({ state: 'detached' });
  await bo.page.getByRole('button', { name: 'Close thread' }).click();

  // Reactions from the menu, seen live.
  await messageAction(bo.page, 'spare bladder scanner', 'Add reaction');
  await bo.page.getByRole('menuitem', { name: 'React with thumbs up' }).click();
  await messageWith(ana.page, 'spare bladder scanner').getByRole('button', { name: /thumbs up: 1 reaction/ }).waitFor();
  const mine = messageWith(bo.page, 'spare bladder scanner').getByRole('button', { name: /thumbs up: 1 reaction, including yours/ });
  assert.equal(await mine.getAttribute('aria-pressed'), 'true');

  // Ana edits: Bo sees the new text marked edited; Ana can read the history.
  await messageAction(ana.page, 'spare bladder scanner', 'Edit');
  const edit = ana.page.getByLabel('Edit message');
  await edit.fill('Who has the spare bladder scanner on level 3?');
  await edit.press('Enter');
  const edited = messageWith(bo.page, 'on level 3?');
  await edited.waitFor();
  await edited.getByText('(edited)').waitFor();
  await messageWith(ana.page, 'on level 3?').getByRole('button', { name: /show edit history/ }).click();
  const dialog = ana.page.getByRole('dialog', { name: 'Edit history' });
  await dialog.getByText('Original').waitFor();
  assert.equal(await dialog.locator('.history-item').count(), 2);
  await ana.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // Ana deletes it after confirming; it disappears for Bo.
  await send(ana.page, 'Posted in the wrong channel, sorry');
  await messageWith(bo.page, 'Posted in the wrong channel').waitFor();
  await messageAction(ana.page, 'Posted in the wrong channel', 'Delete');
  await ana.page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await messageWith(bo.page, 'Posted in the wrong channel').waitFor({ state: 'detached' });
  await messageWith(ana.page, 'Posted in the wrong channel').waitFor({ state: 'detached' });
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('direct and group messages, started from the people directory', async () => {
  await ana.page.goto(`${server.baseUrl}/#/people`);
  await ana.page.getByLabel('Name').fill('bo');
  await ana.page.getByRole('button', { name: 'Message User bo' }).click();
  await ana.page.getByRole('heading', { name: 'User bo' }).waitFor();
  await send(ana.page, 'Are you free for a quick handover?');
  // The conversation appears in Bo's sidebar with one unread message.
  const dm = bo.page.locator('.space-group', { hasText: 'Direct messages' }).getByRole('link', { name: /User ana/ });
  await dm.waitFor();
  // Ana is online: her dot is lit in Bo's sidebar (presence snapshot and batched changes).
  await dm.locator('.presence.on').waitFor();
  await waitForText(dm.locator('.unread-count'), '1');
  await dm.click();
  await messageWith(bo.page, 'quick handover').waitFor();
  await send(bo.page, 'Yes, come by');
  await messageWith(ana.page, 'Yes, come by').waitFor();

  // A group: pick two people, confirm in the dialog.
  await ana.page.goto(`${server.baseUrl}/#/people`);
  await ana.page.getByLabel('Name').fill('');
  await ana.page.getByLabel('Select User bo').check();
  await ana.page.getByLabel('Select User cy').check();
  await ana.page.getByRole('button', { name: 'Message all 2' }).click();
  await ana.page.getByRole('dialog').getByRole('button', { name: /Start group conversation \(3 people\)/ }).click();
  await ana.page.getByRole('heading', { name: 'User bo, User cy' }).waitFor();
  await send(ana.page, 'Group check-in at noon');
  await bo.page.locator('.space-group', { hasText: 'Direct messages' }).getByRole('link', { name: /User ana, User cy/ }).waitFor();
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('scrolling up pages back through history without losing the place', async () => {
  const history = await createSpace(users.ana, { name: 'long-history', kind: 'channel' });
  await addMember(users.ana, history.id, users.bo.user.id);
  let last;
  for (let i = 1; i <= 130; i++) last = await post(users.ana, history.id, { body: `History line ${i}` });
  // Bo has read it all before: the view opens at the newest message.
  await users.bo.post(`/api/v1/spaces/${history.id}/read`, { seq: last.seq });
  await bo.page.goto(`${server.baseUrl}/#/space/${history.id}`);
  await messageWith(bo.page, 'History line 130').waitFor();
  const lines = bo.page.locator('.timeline .message');
  assert.equal(await lines.count(), 50, 'one page at first');
  assert.equal(await bo.page.getByText('History line 1', { exact: true }).count(), 0);
  for (let i = 0; i < 20 && await bo.page.getByText('History line 1', { exact: true }).count() === 0; i++) {
    const before = await lines.first().textContent();
    await bo.page.locator('.timeline').evaluate((el) => { el.scrollTop = 0; });
    await bo.page.waitForFunction((t) => document.querySelector('.timeline .message')?.textContent !== t || !document.querySelector('.load-older'), before);
    // The message that was at the top is still on screen after the older page arrived above it.
    const kept = bo.page.locator('.timeline .message', { hasText: before.match(/History line \d+/)[0] }).first();
    const box = await kept.boundingBox();
    const view = await bo.page.locator('.timeline').boundingBox();
    assert.ok(box && box.y >= view.y - box.height && box.y <= view.y + view.height, 'the reading position is kept');
  }
  await bo.page.getByText('This is the beginning of # long-history.').waitFor();
  assert.equal(await lines.count(), 130, 'every message exactly once');
});

test('after a server restart the app reconnects and shows what was sent meanwhile, once and in order', async () => {
  await bo.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
  await composer(bo.page).waitFor();
  await ana.page.goto(`${server.baseUrl}/#/`);
  await server.stop();
  await bo.page.locator('.status-reconnecting').waitFor({ state: 'attached' });
  await bo.page.getByText('Reconnecting…').waitFor({ state: 'attached' });
  await new Promise((r) => setTimeout(r, 1500)); // the client is backing off
  await server.start({ port: server.port });
  // Sent before the client is back; it must arrive by replay from its cursor.
  await post(users.ana, channel.id, { body: 'Outage note one' });
  await post(users.ana, channel.id, { body: 'Outage note two' });
  await post(users.ana, other.id, { body: 'Meanwhile in pharmacy' });
  await messageWith(bo.page, 'Outage note two').waitFor({ timeout: 25_000 });
  await bo.page.locator('.status-live').waitFor({ state: 'attached', timeout: 25_000 });
  for (const text of ['Outage note one', 'Outage note two']) {
    assert.equal(await bo.page.locator('.timeline .message', { hasText: text }).count(), 1, `${text} exactly once`);
  }
  const order = await bo.page.locator('.timeline .message').allTextContents();
  assert.ok(order.findIndex((t) => t.includes('Outage note one')) < order.findIndex((t) => t.includes('Outage note two')));
  // The other space's unread count caught up too.
  await waitForText(badge(bo.page, other.id), '1');
  // And live delivery works again.
  await post(users.ana, channel.id, { body: 'Back to normal' });
  await messageWith(bo.page, 'Back to normal').waitFor();
  assert.deepEqual(bo.errors, []);
});
