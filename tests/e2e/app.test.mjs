// The web app in a real browser against the real server over a temporary database.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, createSpace, addMember, PASSWORD } from '../integration/fixtures.mjs';
import { openBrowser, signIn } from './browser.mjs';

let server, admin, users, channel, community;

test.before(async () => {
  ({ server, admin } = await startServer({ extraArgs: ['--web-root', new URL('../../web/dist', import.meta.url).pathname] }));
  users = await createUsers(server, admin, ['ana', 'bo', 'cy']);
  channel = await createSpace(users.ana, { name: 'ward-7', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  community = await createSpace(users.ana, { name: 'Falls Prevention Group' });
  await addMember(users.ana, community.id, users.bo.user.id);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('sign in, see my spaces, sign out', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'ana', PASSWORD);
    await b.page.getByRole('link', { name: '# ward-7' }).waitFor();
    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await b.page.getByLabel('Username').waitFor();
    // The session is over server-side: a reload does not bring it back.
    await b.page.reload();
    await b.page.getByLabel('Username').waitFor();
    const stored = await b.page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.equal(stored, '{}{}', 'nothing kept in browser storage');
    const wrong = await b.page.getByLabel('Password').fill('wrong password here');
    void wrong;
    await b.page.getByLabel('Username').fill('ana');
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    await b.page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('two people see each other\'s messages live, and unread counts move', async () => {
  const a = await openBrowser();
  const b = await openBrowser();
  try {
    await signIn(a.page, server.baseUrl, 'ana', PASSWORD);
    await signIn(b.page, server.baseUrl, 'bo', PASSWORD);
    await a.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await a.page.getByLabel('Message', { exact: true }).waitFor();
    // Bo is elsewhere: his sidebar counts Ana's message as unread.
    await a.page.getByLabel('Message', { exact: true }).fill('Bed 12 needs a second check');
    await a.page.keyboard.press('Enter');
    const unread = b.page.locator(`[data-space-id="${channel.id}"] .badge`);
    await unread.waitFor();
    assert.equal((await unread.textContent()).trim(), '1');
    await b.page.locator(`[data-space-id="${channel.id}"]`).click();
    await b.page.getByText('Bed 12 needs a second check').waitFor();
    await unread.waitFor({ state: 'detached' });
    await b.page.getByLabel('Message', { exact: true }).fill('On my way');
    await b.page.keyboard.press('Enter');
    await a.page.getByText('On my way').waitFor();
    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('after a server restart the app reconnects and shows what it missed', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo', PASSWORD);
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await b.page.getByLabel('Message', { exact: true }).waitFor();
    await server.restart();
    await users.ana.post(`/api/v1/spaces/${channel.id}/messages`, { body: 'Sent during the outage window' });
    await b.page.getByText('Sent during the outage window').waitFor({ timeout: 20000 });
    await b.page.locator('.status-live').waitFor({ state: 'attached', timeout: 20000 });
    assert.equal(await b.page.getByText('Sent during the outage window').count(), 1, 'exactly once');
  } finally {
    await b.close();
  }
});

test('search finds a message and never one from a private space I am not in', async () => {
  const secret = await createSpace(users.ana, { name: 'Private Board', kind: 'channel', visibility: 'private' });
  await users.ana.post(`/api/v1/spaces/${secret.id}/messages`, { body: 'kumquat rota for the private board' });
  await users.ana.post(`/api/v1/spaces/${channel.id}/messages`, { body: 'kumquat rota for everyone' });
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo', PASSWORD);
    await b.page.getByLabel('Search').fill('kumquat');
    await b.page.keyboard.press('Enter');
    await b.page.locator('.search-hit').first().waitFor();
    const hits = await b.page.locator('.search-hit').allTextContents();
    assert.equal(hits.length, 1);
    assert.match(hits[0], /for everyone/);
    assert.equal(await b.page.locator('.search-hit mark').first().textContent(), 'kumquat');
  } finally {
    await b.close();
  }
});

test('a Markdown message with <script> and javascript: links renders inert', async () => {
  await users.ana.post(`/api/v1/spaces/${channel.id}/messages`, {
    body: 'Look <script>window.__pwned = 1; alert(1)</script> [click me](javascript:window.__pwned=2) <img src=x onerror="window.__pwned=3"> **bold**',
  });
  const b = await openBrowser();
  let dialogs = 0;
  b.page.on('dialog', async (d) => { dialogs++; await d.dismiss(); });
  try {
    await signIn(b.page, server.baseUrl, 'bo', PASSWORD);
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await b.page.locator('strong', { hasText: 'bold' }).waitFor();
    const link = b.page.getByText('click me');
    await link.click();
    await b.page.waitForTimeout(300);
    assert.equal(await b.page.evaluate(() => window.__pwned), undefined);
    assert.equal(dialogs, 0);
    const hrefs = await b.page.locator('.markdown a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.every((h) => !/^javascript:/i.test(h ?? '')), `hrefs: ${hrefs}`);
    assert.equal(await b.page.locator('.markdown script').count(), 0);
    assert.equal(await b.page.locator('.markdown img').count(), 0);
  } finally {
    await b.close();
  }
});

test('community posts: ask and accept, vote for an idea, vote in a poll', async () => {
  const a = await openBrowser();
  const b = await openBrowser();
  try {
    await signIn(a.page, server.baseUrl, 'ana', PASSWORD);
    await signIn(b.page, server.baseUrl, 'bo', PASSWORD);
    await b.page.goto(`${server.baseUrl}/#/space/${community.id}`);
    await b.page.getByLabel('Post type').selectOption('question');
    await b.page.getByLabel('Title', { exact: true }).fill('Night-time bed alarms?');
    await b.page.getByLabel('Message', { exact: true }).fill('Which wards use them?');
    await b.page.getByRole('button', { name: 'Post' }).click();
    // Ana sees it live and answers in the comments.
    await a.page.goto(`${server.baseUrl}/#/space/${community.id}`);
    const question = a.page.locator('article', { hasText: 'Night-time bed alarms?' });
    await question.waitFor();
    await question.getByRole('button', { name: /comment/ }).click();
    await a.page.getByLabel('Reply', { exact: true }).fill('Ward 5 does, ask their charge nurse.');
    await a.page.getByRole('button', { name: 'Reply' }).click();
    // Bo accepts the answer.
    const bq = b.page.locator('.feed article', { hasText: 'Night-time bed alarms?' });
    await bq.getByRole('button', { name: '1 comment' }).click();
    await b.page.locator('.thread').getByText('Ward 5 does').waitFor();
    await b.page.locator('.thread').getByRole('button', { name: 'Accept answer' }).click();
    await b.page.locator('.thread').getByText('Accepted answer').waitFor();

    // An idea and a poll.
    await users.ana.post(`/api/v1/spaces/${community.id}/messages`, { kind: 'idea', title: 'Non-slip socks for all', body: 'Try it for a month' });
    await users.ana.post(`/api/v1/spaces/${community.id}/messages`, { kind: 'poll', title: 'Audit day', body: 'Pick one', poll_options: ['Monday', 'Friday'] });
    const idea = b.page.locator('.feed article', { hasText: 'Non-slip socks for all' });
    await idea.getByRole('button', { name: /Vote/ }).click();
    await idea.getByRole('button', { name: /1 Voted/ }).waitFor();
    const ideaForAna = a.page.locator('.feed article', { hasText: 'Non-slip socks for all' });
    await ideaForAna.getByRole('button', { name: /▲ 1/ }).waitFor();
    const poll = b.page.locator('.feed article', { hasText: 'Audit day' });
    await poll.getByLabel(/Friday/).click();
    await poll.getByText('1 vote').waitFor();
    assert.ok(await poll.getByLabel(/Friday/).isChecked(), 'my vote shows as chosen');
    await a.page.locator('.feed article', { hasText: 'Audit day' }).getByText('1 vote').waitFor();
    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('usable at phone width', async () => {
  const b = await openBrowser({ width: 375, height: 740 });
  try {
    await signIn(b.page, server.baseUrl, 'bo', PASSWORD);
    const width = await b.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 380, `no horizontal scrolling (scrollWidth ${width})`);
    await b.page.getByRole('button', { name: 'Menu' }).click();
    await b.page.getByRole('link', { name: '# ward-7' }).click();
    await b.page.getByLabel('Message', { exact: true }).fill('From my phone');
    await b.page.keyboard.press('Enter');
    await b.page.locator('.chat').getByText('From my phone').waitFor();
    if (process.env.ROUNDS_SCREENSHOTS) await b.page.screenshot({ path: `${process.env.ROUNDS_SCREENSHOTS}/phone.png` });
  } finally {
    await b.close();
  }
});
