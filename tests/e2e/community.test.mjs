// Communities: create one, discover and join it, and every post kind with live results:
// a question with an accepted answer, an idea with votes, a poll, an announcement, a pin.
import test from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser, signIn, startAppServer, messageWith, messageAction, waitForText, screenshot } from './browser.mjs';

let server, users, ana, bo;

test.before(async () => {
  ({ server, users } = await startAppServer(['ana', 'bo']));
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

const post = (page, title) => page.locator('article.post', { hasText: title }).first();

async function compose(page, { kind, title, body, options }) {
  const start = page.getByRole('button', { name: /Start a post/ });
  if (await start.count()) await start.click();
  const form = page.getByRole('form', { name: 'New post' });
  await form.getByRole('radio', { name: kind }).check();
  await form.getByRole('textbox').first().fill(title);
  if (body) await form.getByLabel(kind === 'Poll' ? 'Details' : 'Message').fill(body);
  if (options) {
    for (let i = 0; i < options.length; i++) {
      if (i >= 2) await form.getByRole('button', { name: 'Add an option' }).click();
      await form.getByLabel(`Option ${i + 1}`, { exact: true }).fill(options[i]);
    }
  }
  await form.getByRole('button', { name: 'Post' }).click();
  await post(page, title).waitFor();
}

test('create a community; a colleague discovers and joins it', async () => {
  await ana.page.goto(`${server.baseUrl}/#/`);
  await ana.page.getByRole('button', { name: 'Create a community' }).first().click();
  const dialog = ana.page.getByRole('dialog', { name: 'Create a community' });
  await dialog.getByLabel('Name').fill('Falls Prevention Group');
  await dialog.getByLabel(/Topic/).fill('Fewer falls on every ward');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await ana.page.getByRole('heading', { name: 'Falls Prevention Group' }).waitFor();
  await ana.page.locator('.sidebar').getByRole('link', { name: 'Falls Prevention Group' }).waitFor();

  await bo.page.goto(`${server.baseUrl}/#/discover`);
  await bo.page.getByLabel('Find communities and channels').fill('falls');
  await bo.page.getByRole('button', { name: 'Join Falls Prevention Group' }).click();
  await bo.page.getByRole('heading', { name: 'Falls Prevention Group' }).waitFor();
  await bo.page.locator('.sidebar').getByRole('link', { name: 'Falls Prevention Group' }).waitFor();
  await ana.page.getByText('2 members').waitFor();
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('a question is answered in the comments and the answer accepted', async () => {
  await compose(bo.page, { kind: 'Question', title: 'Night-time bed alarms?', body: 'Which wards use them?' });
  const q = post(ana.page, 'Night-time bed alarms?');
  await q.waitFor();
  await q.getByText('Awaiting an answer').waitFor();
  await q.getByRole('button', { name: 'Comment' }).click();
  const answer = q.getByLabel('Comment', { exact: true });
  await answer.fill('Ward 5 does, ask their charge nurse.');
  await answer.press('Enter');
  const bq = post(bo.page, 'Night-time bed alarms?');
  await bq.getByRole('button', { name: '1 comment' }).click();
  await messageAction(bo.page, 'Ward 5 does', 'Accept answer');
  await bq.getByText('Accepted answer').waitFor();
  await q.getByText('Answered', { exact: true }).waitFor();
  await q.getByText('Accepted answer').waitFor();
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('ideas collect votes and polls show live results', async () => {
  await compose(ana.page, { kind: 'Idea', title: 'Non-slip socks for all', body: 'Try it for a month' });
  await compose(ana.page, { kind: 'Poll', title: 'Audit day', options: ['Monday', 'Wednesday', 'Friday'] });

  const idea = post(bo.page, 'Non-slip socks for all');
  await idea.getByRole('button', { name: /Vote for this idea/ }).click();
  await idea.getByRole('button', { name: /Remove my vote \(1 vote\)/ }).waitFor();
  await post(ana.page, 'Non-slip socks for all').getByRole('button', { name: /Vote for this idea \(1 vote\)/ }).waitFor();

  const poll = post(bo.page, 'Audit day');
  await poll.getByRole('radio', { name: /Friday/ }).check();
  await poll.getByText('1 vote in total').waitFor();
  assert.ok(await poll.getByRole('radio', { name: /Friday/ }).isChecked());
  const anaPoll = post(ana.page, 'Audit day');
  await anaPoll.getByText('1 vote in total').waitFor();
  await waitForText(anaPoll.locator('.poll-option', { hasText: 'Friday' }).locator('.poll-votes'), '1 vote · 100%');
  // Changing the vote moves it.
  await poll.getByRole('radio', { name: /Monday/ }).check();
  await waitForText(anaPoll.locator('.poll-option', { hasText: 'Monday' }).locator('.poll-votes'), '1 vote · 100%');
  await waitForText(anaPoll.locator('.poll-option', { hasText: 'Friday' }).locator('.poll-votes'), '0 votes · 0%');
  // Filters show one kind.
  await bo.page.getByRole('button', { name: 'Ideas', exact: true }).click();
  assert.equal(await bo.page.locator('article.post').count(), 1);
  await bo.page.getByRole('button', { name: 'All posts' }).click();
  await screenshot(ana.page, 'community');
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('announcements are for owners; owners pin', async () => {
  await bo.page.getByRole('button', { name: /Start a post/ }).click();
  const boForm = bo.page.getByRole('form', { name: 'New post' });
  assert.equal(await boForm.getByRole('radio', { name: 'Announcement' }).count(), 0, 'members cannot announce');
  await boForm.getByRole('button', { name: 'Cancel' }).click();

  await compose(ana.page, { kind: 'Announcement', title: 'New falls policy from Monday', body: 'Read it before your next shift.' });
  const a = post(bo.page, 'New falls policy from Monday');
  await a.getByText('Announcement', { exact: true }).waitFor();
  await messageAction(ana.page, 'New falls policy from Monday', 'Pin');
  await a.getByText('Pinned', { exact: true }).waitFor();
  await bo.page.getByRole('button', { name: 'Pinned', exact: true }).click();
  await bo.page.locator('.side-panel').getByRole('link', { name: 'New falls policy from Monday' }).waitFor();
  await bo.page.keyboard.press('Escape');
  await bo.page.locator('.side-panel').waitFor({ state: 'detached' });
  // Editing a post keeps its kind and shows it was edited.
  await messageAction(ana.page, 'New falls policy from Monday', 'Edit');
  await ana.page.getByLabel('Edit message').fill('Read it before your next shift, please.');
  await ana.page.getByRole('button', { name: 'Save' }).click();
  await post(bo.page, 'New falls policy from Monday').getByText('(edited)').waitFor();
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});
