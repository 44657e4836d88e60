// What a browser must never do with message content: run it, follow script links, or show
// another space's messages in search.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createSpace, addMember } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer, messageWith, post, screenshot } from './browser.mjs';

let server, users, channel;

test.before(async () => {
  ({ server, users } = await startAppServer(['ana', 'bo']));
  channel = await createSpace(users.ana, { name: 'ward-7', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('Markdown with <script>, raw HTML and javascript: links renders inert', async () => {
  await post(users.ana, channel.id, {
    confirm_phi: true,  // links are URLs: the default template warns about them
    body: [
      'Look <script>window.__pwned = 1; alert(1)</script> **bold**',
      '[click me](javascript:window.__pwned=2) and [sneaky](JaVaScRiPt:alert(3)) and [tabbed](java&#9;script:alert(4))',
      '<img src=x onerror="window.__pwned=3"> <a href="javascript:alert(5)">raw anchor</a> <iframe src="https://example.org"></iframe>',
      '![tracker](https://example.org/pixel.png) [safe link](https://example.org/guide) <https://example.org/auto>',
    ].join('\n\n'),
  });
  const b = await openBrowser();
  let dialogs = 0;
  b.page.on('dialog', async (d) => { dialogs++; await d.dismiss(); });
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    const m = messageWith(b.page, 'click me');
    await m.locator('strong', { hasText: 'bold' }).waitFor();
    for (const name of ['click me', 'sneaky', 'tabbed']) {
      await m.getByText(name, { exact: true }).click();
    }
    await m.getByText('raw anchor').click();
    await b.page.waitForTimeout(300);
    assert.equal(await b.page.evaluate(() => window.__pwned), undefined, 'no script ran');
    assert.equal(dialogs, 0, 'no dialog opened');
    // Raw HTML is shown as text, not parsed.
    const text = await m.locator('.markdown').textContent();
    assert.match(text, /<script>window.__pwned = 1; alert\(1\)<\/script>/);
    assert.match(text, /<img src=x onerror=/);
    for (const tag of ['script', 'img', 'iframe']) assert.equal(await m.locator(tag).count(), 0, `no <${tag}> element`);
    const links = await m.locator('.markdown a').evaluateAll((as) => as.map((a) => ({ href: a.getAttribute('href'), rel: a.rel, target: a.target })));
    assert.deepEqual(links.map((l) => l.href), ['https://example.org/guide', 'https://example.org/auto']);
    for (const l of links) {
      assert.match(l.rel, /noopener/);
      assert.match(l.rel, /noreferrer/);
      assert.equal(l.target, '_blank');
    }
    await m.getByText('[image: tracker]').waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('search finds a message with its match highlighted, and never one from a private space I am not in', async () => {
  const secret = await createSpace(users.ana, { name: 'Private Board', kind: 'channel', visibility: 'private', join_policy: 'invite' });
  await post(users.ana, secret.id, { body: 'kumquat rota for the private board' });
  await post(users.ana, channel.id, { body: 'kumquat rota for everyone <b>not bold</b>' });
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.getByLabel('Search', { exact: true }).fill('kumquat');
    await b.page.keyboard.press('Enter');
    await b.page.getByRole('heading', { name: 'Search' }).waitFor();
    const hits = b.page.locator('.search-hit');
    await hits.first().waitFor();
    const texts = await hits.allTextContents();
    assert.equal(texts.length, 1, 'only the message Bo may read');
    assert.match(texts[0], /for everyone/);
    assert.doesNotMatch(texts.join(' '), /private board/i);
    assert.equal(await hits.first().locator('mark').first().textContent(), 'kumquat');
    assert.match(texts[0], /<b>not bold<\/b>/, 'HTML in a snippet is text');
    assert.equal(await hits.first().locator('b').count(), 0);
    await screenshot(b.page, 'search');
    // The hit leads to the message in its space.
    // Whoever goes back to the search box while the message loads keeps the focus there: the
    // message taking it when it shows would take the next search's Enter with it.
    await hits.first().getByRole('link').click();
    await b.page.evaluate(() => document.getElementById('global-search').focus());
    await b.page.locator('.message.flash', { hasText: 'kumquat rota for everyone' }).waitFor();
    await b.page.waitForTimeout(150);
    assert.equal(await b.page.evaluate(() => document.activeElement?.id), 'global-search');
    // People and spaces are searched too.
    await b.page.getByLabel('Search', { exact: true }).fill('ward');
    await b.page.keyboard.press('Enter');
    await b.page.locator('#res-spaces + ul').getByRole('link', { name: '# ward-7' }).waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
