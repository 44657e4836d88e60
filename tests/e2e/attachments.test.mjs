// Files on messages: a member attaches an image in a channel and sends it with no text; both
// they and a colleague see it as a link with a thumbnail and fetch the same bytes back. A file of
// a type the space does not take is refused in the composer and nothing is sent, and a file name
// that looks like patient information is attached only once its author confirms. In a space that
// takes text files and blocks PHI, a CSV with a phone number in it is refused with the number shown
// in place.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSpace, addMember, createOfficer, assignNewVersion } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer, screenshot, unlabelledControls } from './browser.mjs';

// A 1×1 PNG: the server knows it by its signature, the browser can draw it.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PHONE = '555-867-5309';

let server, admin, users, channel, dir, ana, bo;

test.before(async () => {
  ({ server, admin, users } = await startAppServer(['ana', 'bo']));
  channel = await createSpace(users.ana, { name: 'wound-care', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  dir = mkdtempSync(path.join(tmpdir(), 'rounds-files-'));
  ana = await openBrowser();
  bo = await openBrowser();
  await signIn(ana.page, server.baseUrl, 'ana');
  await signIn(bo.page, server.baseUrl, 'bo');
  await ana.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
  await bo.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
});

test.after(async () => {
  await ana?.close();
  await bo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await server.stop();
  server.cleanup();
});

function writeFile(name, content) {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** Clicks the composer's "Attach file" button and picks `file` in the file chooser it opens. */
async function attach(page, file) {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.locator('.chat-composer').getByRole('button', { name: 'Attach file' }).click(),
  ]);
  assert.equal(chooser.isMultiple(), true);
  await chooser.setFiles(file);
}

/** The composer's chip for `name`, in `state` when given (uploading, ready, failed, phi_warning…). */
const chip = (page, name, state) => page.locator(`.attachment-chip${state ? `[data-state="${state}"]` : ''}`, { hasText: name });
/** The message carrying a file called `name`. */
const messageWithFile = (page, name) => page.locator('[data-message-id]', { has: page.locator('.attachment-name', { hasText: name }) });

async function messages() {
  const res = await users.ana.get(`/api/v1/spaces/${channel.id}/messages`);
  assert.equal(res.status, 200, res.text);
  return res.body.items;
}

test('an image sent with no text reaches a colleague as a link and a thumbnail, with the same bytes', async () => {
  const before = (await messages()).length;
  await attach(ana.page, writeFile('wound-day-3.png', PNG));
  const pending = chip(ana.page, 'wound-day-3.png');
  await chip(ana.page, 'wound-day-3.png', 'ready').waitFor();
  assert.equal(await pending.locator('.chip-size').textContent(), `${PNG.length} B`);
  assert.deepEqual(await unlabelledControls(ana.page), []);

  const send = ana.page.getByRole('button', { name: 'Send message' });
  assert.equal(await send.isDisabled(), false, 'a file alone can be sent');
  await send.click();
  await messageWithFile(ana.page, 'wound-day-3.png').waitFor();
  await pending.waitFor({ state: 'detached' });
  assert.equal(await ana.page.locator('.attachment-chip').count(), 0, 'the chips clear once sent');

  const stored = (await messages()).filter((m) => m.attachments?.length);
  assert.equal((await messages()).length, before + 1);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].body, '');
  assert.equal(stored[0].author_id, users.ana.user.id);
  assert.deepEqual(stored[0].attachments.map((a) => [a.name, a.content_type, a.size]), [['wound-day-3.png', 'image/png', PNG.length]]);
  const url = `/api/v1/attachments/${stored[0].attachments[0].id}`;

  for (const [who, page] of [['ana', ana.page], ['bo', bo.page]]) {
    const message = messageWithFile(page, 'wound-day-3.png');
    await message.waitFor();
    const link = message.getByRole('link', { name: /wound-day-3\.png/ });
    assert.equal(await link.getAttribute('href'), url, `${who}: the link`);
    assert.match(await link.textContent(), new RegExp(`wound-day-3\\.png\\s*${PNG.length} B`));
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.match(await link.getAttribute('rel'), /noopener/);
    const thumb = message.getByRole('img', { name: 'wound-day-3.png' });
    assert.equal(await thumb.getAttribute('loading'), 'lazy');
    // The thumbnail is the image itself, fetched with the session cookie.
    await thumb.evaluate((img) => (img.complete && img.naturalWidth > 0 ? null
      : new Promise((resolve, reject) => { img.addEventListener('load', resolve); img.addEventListener('error', () => reject(new Error('thumbnail failed'))); })));
    assert.equal(await thumb.evaluate((img) => img.naturalWidth), 1, `${who}: the thumbnail is drawn`);

    const href = await link.getAttribute('href');
    const got = await page.evaluate(async (href) => {
      const res = await fetch(href);
      return { status: res.status, type: res.headers.get('content-type'), bytes: [...new Uint8Array(await res.arrayBuffer())] };
    }, href);
    assert.equal(got.status, 200, `${who}: download`);
    assert.equal(got.type, 'image/png');
    assert.deepEqual(got.bytes, [...PNG], `${who}: the same bytes`);
  }
  await screenshot(bo.page, 'attachments-image');
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('a file of a type the space does not take is refused in the composer and nothing is sent', async () => {
  const before = (await messages()).length;
  await attach(ana.page, writeFile('handover-notes.txt', 'Bed 4: dressing changed at 14:00.\n'));
  const refused = chip(ana.page, 'handover-notes.txt', 'failed');
  await refused.waitFor();
  const error = refused.getByRole('alert');
  const text = await error.textContent();
  assert.match(text, /^Not attached: /);
  assert.match(text, /text\/plain/, 'the server\'s reason, naming the type');
  assert.match(text, /image\/png/, 'and what the space takes');
  await screenshot(ana.page, 'attachments-refused');

  // Nothing to send: no text and no accepted file.
  const send = ana.page.getByRole('button', { name: 'Send message' });
  assert.equal(await send.isDisabled(), true);
  const box = ana.page.getByLabel('Message', { exact: true });
  await box.press('Enter');
  assert.equal((await messages()).length, before, 'nothing was sent');

  // Removed, it is gone; the composer sends text as before.
  await refused.getByRole('button', { name: 'Remove handover-notes.txt' }).click();
  await refused.waitFor({ state: 'detached' });
  await box.fill('Notes are on the ward board instead');
  await box.press('Enter');
  await bo.page.locator('[data-message-id]', { hasText: 'Notes are on the ward board instead' }).waitFor();
  const sent = (await messages()).find((m) => m.body === 'Notes are on the ward board instead');
  assert.deepEqual(sent.attachments, []);
  assert.equal((await messages()).length, before + 1);
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('a file name that looks like patient information is attached only after the author confirms', async () => {
  const name = `call family ${PHONE}.png`;
  await attach(bo.page, writeFile(name, PNG));
  const warned = chip(bo.page, name);
  const panel = warned.locator('.phi-panel[data-phi-state="phi_warning"]');
  await panel.waitFor();
  assert.match(await panel.locator('.phi-text').textContent(), /phone number/);
  assert.deepEqual(await panel.locator('mark.phi-mark').allTextContents(), [PHONE]);
  assert.equal(await bo.page.getByRole('button', { name: 'Send message' }).isDisabled(), true, 'not until the author decides');
  await screenshot(bo.page, 'attachments-phi-warning');

  await panel.getByRole('button', { name: 'Attach anyway' }).click();
  await chip(bo.page, name, 'ready').waitFor();
  const box = bo.page.getByLabel('Message', { exact: true });
  await box.fill('Photo for the record');
  await box.press('Enter');
  await messageWithFile(ana.page, name).waitFor();
  const sent = (await messages()).find((m) => m.body === 'Photo for the record');
  assert.deepEqual(sent.attachments.map((a) => a.name), [name]);
  assert.deepEqual(sent.phi_types.map((t) => t.toLowerCase()), ['phone']);
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});

test('a text file with patient information in it is refused where PHI is blocked, the finding shown in place', async () => {
  // A space whose template takes text files and blocks PHI.
  const officer = await createOfficer(server, admin, 'officer');
  const lists = await createSpace(users.ana, { name: 'call-lists', kind: 'channel' });
  await assignNewVersion(officer, lists.id, 'internal-community', (d) =>
    ({ ...d, phi: 'block', attachments: { ...d.attachments, types: ['image/png', 'text/plain'] } }), 'text files, no PHI');
  await ana.page.goto(`${server.baseUrl}/#/space/${lists.id}`);

  const csv = 'bed,callback\n4,ward clerk\n7,555-867-5309\n';
  await attach(ana.page, writeFile('callbacks.csv', csv));
  const refused = chip(ana.page, 'callbacks.csv', 'phi_blocked');
  const panel = refused.locator('.phi-panel');
  await panel.waitFor();
  assert.match(await panel.locator('.phi-text').textContent(), /^Not attached: the file's content has patient information \(phone number\)/);
  assert.deepEqual(await panel.locator('pre mark.phi-mark').allTextContents(), [PHONE]);
  assert.equal(await panel.getByRole('button', { name: 'Attach anyway' }).count(), 0, 'blocked: nothing to confirm');
  await screenshot(ana.page, 'attachments-phi-content');

  // Without the number the same file is taken, byte for byte.
  await refused.getByRole('button', { name: 'Remove callbacks.csv' }).click();
  const clean = 'bed,callback\n4,ward clerk\n7,charge nurse\n';
  await attach(ana.page, writeFile('callbacks-2.csv', clean));
  await chip(ana.page, 'callbacks-2.csv', 'ready').waitFor();
  const box = ana.page.getByLabel('Message', { exact: true });
  await box.fill('Call list for tonight');
  await box.press('Enter');
  await ana.page.locator('[data-message-id]', { hasText: 'Call list for tonight' }).waitFor();
  const page = await users.ana.get(`/api/v1/spaces/${lists.id}/messages`);
  const sent = page.body.items.find((m) => m.body === 'Call list for tonight');
  assert.deepEqual(sent.attachments.map((a) => [a.name, a.content_type, a.size]), [['callbacks-2.csv', 'text/plain', clean.length]]);
  const got = await fetch(`${server.baseUrl}/api/v1/attachments/${sent.attachments[0].id}`, { headers: users.ana.headers() });
  assert.equal(got.status, 200);
  assert.equal(await got.text(), clean);
  assert.deepEqual([...ana.errors, ...bo.errors], []);
});
