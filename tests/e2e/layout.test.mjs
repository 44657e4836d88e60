// The app at phone width (375 px): no sideways scrolling, the sidebar is a menu that opens and
// closes (Esc too), chat and threads work with the on-screen space there is.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace, addMember } from '../integration/fixtures.mjs';
import { ADMIN } from '../lib/server.mjs';
import { openBrowser, signIn, administer, startAppServer, messageWith, messageAction, screenshot, post, unlabelledControls } from './browser.mjs';

let server, users, channel, community;

test.before(async () => {
  ({ server, users } = await startAppServer(['ana', 'bo']));
  channel = await createSpace(users.ana, { name: 'ward-7-nights-and-weekends', kind: 'channel', topic: 'Cover, handover and bed status for the night and weekend teams' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  community = await createSpace(users.ana, { name: 'Falls Prevention Group' });
  await addMember(users.ana, community.id, users.bo.user.id);
  await post(users.ana, channel.id, { body: 'A long line without spaces: ' + 'x'.repeat(200) });
  await post(users.ana, community.id, { kind: 'poll', title: 'Which audit day suits the night team best?', body: '', poll_options: ['Monday night', 'Friday night'] });
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

const noSideways = async (page, where) => {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling on ${where} (scrollWidth ${width})`);
};

test('usable at phone width', async () => {
  const b = await openBrowser({ width: 375, height: 740 });
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await noSideways(b.page, 'home');
    const sidebar = b.page.locator('#sidebar');
    assert.equal(await sidebar.isVisible(), false, 'the sidebar starts closed');
    const menu = b.page.getByRole('button', { name: 'Menu' });
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    await sidebar.getByRole('link', { name: /ward-7-nights/ }).waitFor();
    await screenshot(b.page, 'phone-menu');
    await b.page.keyboard.press('Escape');
    await sidebar.waitFor({ state: 'hidden' });

    await menu.click();
    await sidebar.getByRole('link', { name: /ward-7-nights/ }).click();
    await sidebar.waitFor({ state: 'hidden' });
    const box = b.page.getByLabel('Message', { exact: true });
    await box.fill('From my phone');
    await box.press('Enter');
    await messageWith(b.page, 'From my phone').waitFor();
    await noSideways(b.page, 'a channel');
    const composerBox = await box.boundingBox();
    assert.ok(composerBox.y + composerBox.height <= 740, 'the composer is on screen');
    await screenshot(b.page, 'phone-chat');

    // A thread takes the whole screen and closes again.
    await messageAction(b.page, 'From my phone', 'Reply in thread');
    const panel = b.page.locator('.thread-panel');
    const panelBox = await panel.boundingBox();
    assert.ok(panelBox.width >= 370, 'the thread uses the full width');
    await b.page.getByLabel('Reply', { exact: true }).fill('Reply from my phone');
    await b.page.getByLabel('Reply', { exact: true }).press('Enter');
    await panel.locator('.message .markdown', { hasText: 'Reply from my phone' }).waitFor();
    await b.page.getByRole('button', { name: 'Close thread' }).click();
    await panel.waitFor({ state: 'detached' });

    await b.page.goto(`${server.baseUrl}/#/space/${community.id}`);
    await b.page.locator('article.post').first().waitFor();
    await noSideways(b.page, 'a community');
    await b.page.getByRole('radio', { name: /Friday night/ }).click();
    await b.page.getByText('1 vote in total').waitFor();
    await screenshot(b.page, 'phone-community');

    for (const hash of ['#/people', '#/discover', '#/profile', '#/search?q=phone']) {
      await b.page.goto(`${server.baseUrl}/${hash}`);
      await b.page.locator('#main h1').waitFor();
      await noSideways(b.page, hash);
    }
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('an administrator at phone width keeps the search field while administering', async () => {
  const b = await openBrowser({ width: 375, height: 740 });
  try {
    await signIn(b.page, server.baseUrl, ADMIN.username, ADMIN.password);
    const search = b.page.locator('#global-search');
    const before = (await search.boundingBox()).width;
    await administer(b.page, ADMIN.password);
    const stop = b.page.locator('header.topbar').getByRole('button', { name: 'Stop administering' });
    assert.equal((await stop.innerText()).trim(), 'Stop', 'the short label shows, with the whole name for assistive technology');
    const during = (await search.boundingBox()).width;
    assert.ok(during >= 100, `the search field stays usable while administering (${during} px, ${before} px before)`);
    await noSideways(b.page, 'the top bar while administering');
    await screenshot(b.page, 'phone-administering');
    await stop.click();
    await b.page.locator('header.topbar').getByRole('button', { name: 'Administer', exact: true }).waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('keyboard: skip link, Enter sends, Esc closes dialogs and menus', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'ana');
    await b.page.reload();
    await b.page.locator('.status-live').waitFor({ state: 'attached' });
    await b.page.keyboard.press('Tab');
    const skip = b.page.getByRole('link', { name: 'Skip to content' });
    assert.equal(await skip.evaluate((el) => el === document.activeElement), true, 'the first Tab reaches the skip link');
    await b.page.keyboard.press('Enter');
    assert.equal(await b.page.evaluate(() => document.activeElement?.id), 'main');

    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);

    const box = b.page.getByLabel('Message', { exact: true });
    await box.focus();
    await b.page.keyboard.type('Typed line one');
    await b.page.keyboard.press('Shift+Enter');
    await b.page.keyboard.type('and line two');
    await b.page.keyboard.press('Enter');
    const sent = messageWith(b.page, 'Typed line one');
    await sent.waitFor();
    assert.match(await sent.locator('.markdown').innerText(), /Typed line one\s+and line two/);

    // The reaction menu opens from the keyboard, and Esc returns focus to its button.
    await sent.focus().catch(() => {});
    await sent.hover();
    const add = sent.getByRole('button', { name: 'Add reaction' });
    await add.focus();
    await b.page.keyboard.press('Enter');
    await b.page.getByRole('menu', { name: 'Reactions' }).waitFor();
    await b.page.keyboard.press('Escape');
    await b.page.getByRole('menu', { name: 'Reactions' }).waitFor({ state: 'detached' });
    assert.equal(await add.evaluate((el) => el === document.activeElement), true);

    // Dialogs close with Esc.
    await b.page.getByRole('button', { name: 'Start a direct message' }).click();
    await b.page.getByRole('dialog', { name: 'New direct message' }).waitFor();
    await b.page.keyboard.press('Escape');
    await b.page.getByRole('dialog').waitFor({ state: 'detached' });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('every form control on every screen has a label', async () => {
  const b = await openBrowser();
  const unlabelled = () => unlabelledControls(b.page);
  try {
    await signIn(b.page, server.baseUrl, 'ana');
    const screens = [
      ['#/', null],
      [`#/space/${channel.id}`, async () => { await messageAction(b.page, 'A long line', 'Reply in thread'); await b.page.getByLabel('Reply', { exact: true }).waitFor(); }],
      [`#/space/${community.id}`, async () => { await b.page.getByRole('button', { name: /Start a post/ }).click(); await b.page.getByRole('radio', { name: 'Poll' }).check(); }],
      [`#/space/${community.id}`, async () => { await b.page.getByRole('button', { name: 'Members' }).click(); await b.page.getByRole('button', { name: 'Add people' }).click(); }],
      [`#/space/${community.id}`, async () => { await b.page.getByRole('button', { name: 'Settings' }).click(); }],
      ['#/people', null], ['#/discover', null], ['#/profile', null], ['#/mentions', null], ['#/search?q=line', null],
      ['#/', async () => { await b.page.getByRole('button', { name: 'Create a channel' }).first().click(); }],
      ['#/', async () => { await b.page.getByRole('button', { name: 'Start a direct message' }).click(); await b.page.locator('.picker-row').first().waitFor(); }],
    ];
    for (const [hash, open] of screens) {
      await b.page.goto(`${server.baseUrl}/${hash}`);
      await b.page.locator('#main h1').first().waitFor();
      if (open) await open();
      await b.page.waitForTimeout(300);
      assert.deepEqual(await unlabelled(), [], `unlabelled controls on ${hash}`);
      await b.page.keyboard.press('Escape');
    }
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
