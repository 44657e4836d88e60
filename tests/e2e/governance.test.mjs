// Governance in the browser: PHI refused or confirmed in the composer with the offending text
// highlighted, a held post approved by a moderator going live for its author, and the compliance
// screens (audit chain verified, templates compared and dry-run).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSpace, addMember } from '../integration/fixtures.mjs';
import { runCli } from '../lib/server.mjs';
import { openBrowser, signIn, startAppServer, messageAction, messageWith, screenshot, unlabelledControls, waitForText, PASSWORD } from './browser.mjs';

let server, admin, users, compliance;

const PHONE = '555-867-5309';
const SSN = '123-45-6789';

test.before(async () => {
  // Checkpoints every second, so what the tests do is soon under a signed Merkle root.
  ({ server, admin, users } = await startAppServer(['ana', 'bo', 'cy', 'mo'], { env: { ROUNDS_AUDIT_CHECKPOINT_SECONDS: '1' } }));
  const res = await admin.post('/api/v1/users', {
    username: 'cora', display_name: 'Cora Compliance', email: 'cora@example.org', job_role: 'Compliance Officer',
    password: PASSWORD, is_compliance: true,
  });
  assert.equal(res.status, 201, res.text);
  compliance = server.client();
  await compliance.login('cora', PASSWORD);
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

/** Puts a space under (key, version) as the compliance officer. */
const assignTemplate = (spaceId, key, version) =>
  ok(compliance.post(`/api/v1/spaces/${spaceId}/template`, { key, version, reason: 'Set up for the browser test' }));

/** The newest version of `key`. */
async function latestVersion(key) {
  const { items } = await ok(compliance.get('/api/v1/templates'));
  return items.filter((t) => t.key === key).sort((a, b) => b.version - a.version)[0];
}

/** Types `name` into the space picker labelled `label` and ticks the space of that name. */
async function pickSpace(page, label, name) {
  await page.getByLabel(label, { exact: true }).fill(name);
  const found = page.getByRole('list', { name: `${label}: spaces found` }).locator('label.picker-row', { hasText: name });
  await found.locator('input[type="checkbox"]').check();
  await page.getByRole('list', { name: `${label}: chosen` }).getByText(name, { exact: true }).waitFor();
}

test('PHI is blocked in a patient forum: the composer highlights what was found and nothing is stored', async () => {
  // Made a patient forum (pseudonyms are set when a space is made, not once people use it).
  const forum = await createSpace(users.ana, { name: 'Recovery circle', kind: 'community', template: 'patient-forum' });
  await addMember(users.ana, forum.id, users.bo.user.id);
  // The compliance officer runs this forum under a patient-forum version that refuses PHI outright.
  let version = await latestVersion('patient-forum');
  if (version.document.phi !== 'block') {
    version = await ok(compliance.post('/api/v1/templates/patient-forum/versions', { document: { ...version.document, version: version.version + 1, phi: 'block' } }), 201);
  }
  await assignTemplate(forum.id, 'patient-forum', version.version);

  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.goto(`${server.baseUrl}/#/space/${forum.id}`);
    await b.page.getByRole('button', { name: /Start a post/ }).click();
    const form = b.page.getByRole('form', { name: 'New post' });
    await form.getByLabel('Title', { exact: false }).fill('Scar care question');
    const body = `Zoë here 👋 my number is ${PHONE} and my SSN is ${SSN}, please call`;
    await form.getByLabel('Message', { exact: true }).fill(body);

    // The preview flags it while typing, before anything is sent.
    const preview = form.locator('.phi-panel[data-phi-state="preview-block"]');
    await preview.waitFor();
    assert.deepEqual(await preview.locator('mark.phi-mark').allTextContents(), [PHONE, SSN]);

    await form.getByRole('button', { name: 'Post' }).click();
    const refusal = form.locator('.phi-panel[data-phi-state="phi_blocked"]');
    await refusal.waitFor();
    assert.equal(await refusal.getAttribute('role'), 'alert');
    const text = await refusal.locator('.phi-text').textContent();
    assert.match(text, /not allowed/);
    assert.match(text, /phone number/);
    assert.match(text, /Social Security number/);
    // The spans are highlighted in the author's own text (byte offsets mapped past "ë" and the emoji).
    assert.deepEqual(await refusal.locator('mark.phi-mark').allTextContents(), [PHONE, SSN]);
    assert.equal(await refusal.locator('.phi-preview').first().textContent(), body);
    assert.ok(await form.getByRole('button', { name: 'Post' }).isDisabled(), 'the same text cannot be sent again');
    await screenshot(b.page, 'governance-phi-blocked');

    const { items } = await ok(users.bo.get(`/api/v1/spaces/${forum.id}/messages`));
    assert.equal(items.filter((m) => m.body.includes(PHONE)).length, 0, 'nothing was stored');

    // Removing the identifiers clears the refusal.
    await form.getByLabel('Message', { exact: true }).fill('Any tips for scar care after the first week?');
    await refusal.waitFor({ state: 'detached' });
    assert.equal(await form.getByRole('button', { name: 'Post' }).isDisabled(), false);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('PHI in a clinical channel not approved for it: warned, highlighted, and sent after confirming', async () => {
  const channel = await createSpace(users.ana, { name: 'ward-4-nursing', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  const space = await ok(users.ana.get(`/api/v1/spaces/${channel.id}`));
  assert.equal(space.template.phi, 'warn', 'staff channels warn about PHI by default');

  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    const box = b.page.getByLabel('Message', { exact: true });
    const text = `Family of bed 4 asked for a call back on ${PHONE} after rounds`;
    await box.fill(text);
    await box.press('Enter');

    const warning = b.page.locator('.phi-panel[data-phi-state="phi_warning"]');
    await warning.waitFor();
    assert.match(await warning.locator('.phi-text').textContent(), /phone number/);
    assert.deepEqual(await warning.locator('mark.phi-mark').allTextContents(), [PHONE]);
    assert.equal(await messageWith(b.page, 'asked for a call back').count(), 0, 'not sent yet');
    assert.equal(await box.inputValue(), text, 'the draft stays');
    await screenshot(b.page, 'governance-phi-warning');

    await warning.getByRole('button', { name: 'Send anyway' }).click();
    await messageWith(b.page, 'asked for a call back').waitFor();
    await warning.waitFor({ state: 'detached' });
    assert.equal(await box.inputValue(), '');

    const { items } = await ok(users.ana.get(`/api/v1/spaces/${channel.id}/messages`));
    const sent = items.find((m) => m.body === text);
    assert.ok(sent, 'stored once confirmed');
    assert.equal(sent.state, 'published');
    assert.deepEqual(sent.phi_types.map((t) => t.toLowerCase()), ['phone']);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('an identifier split between two messages is caught in the second, and the composer says why', async () => {
  const channel = await createSpace(users.ana, { name: 'family-liaison', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  // A template of its own, so that the built-in one the other tests use stays as shipped.
  await ok(compliance.post('/api/v1/templates/internal-community/clone', { new_key: 'liaison-strict', name: 'Liaison (strict)' }), 201);
  const v1 = await latestVersion('liaison-strict');
  const v2 = await ok(compliance.post('/api/v1/templates/liaison-strict/versions',
    { document: { ...v1.document, version: v1.version + 1, phi: 'block' } }), 201);
  await assignTemplate(channel.id, 'liaison-strict', v2.version);

  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    const box = b.page.getByLabel('Message', { exact: true });
    // The first half alone is nothing: it is sent.
    await box.fill('her ssn is 987-65-');
    await box.press('Enter');
    await messageWith(b.page, 'her ssn is 987-65-').waitFor();

    // The second half is flagged while typed, as continuing the first ...
    await box.fill('4320');
    const preview = b.page.locator('.phi-panel[data-phi-state="preview-block"]');
    await preview.waitFor();
    assert.deepEqual(await preview.locator('mark.phi-mark').allTextContents(), ['4320']);
    assert.match(await preview.locator('[data-phi-across]').textContent(), /previous message/);
    // ... and refused when sent, with nothing stored.
    await box.press('Enter');
    const refusal = b.page.locator('.phi-panel[data-phi-state="phi_blocked"]');
    await refusal.waitFor();
    assert.match(await refusal.locator('.phi-text').textContent(), /Social Security number/);
    assert.match(await refusal.locator('[data-phi-across]').textContent(), /Splitting it across messages/);
    await screenshot(b.page, 'governance-phi-split');
    const { items } = await ok(users.bo.get(`/api/v1/spaces/${channel.id}/messages`));
    assert.deepEqual(items.map((m) => m.body), ['her ssn is 987-65-']);

    // Text that continues nothing goes out.
    await box.fill('never mind, I will call the desk');
    await refusal.waitFor({ state: 'detached' });
    await box.press('Enter');
    await messageWith(b.page, 'never mind').waitFor();
    // Nor can that message be edited into the second half: the edit's preview says so first.
    await messageAction(b.page, 'never mind', 'Edit');
    const edit = b.page.getByLabel('Edit message');
    await edit.fill('4320');
    const editPreview = b.page.locator('.phi-panel[data-phi-state="preview-block"]');
    await editPreview.waitFor();
    assert.deepEqual(await editPreview.locator('mark.phi-mark').allTextContents(), ['4320']);
    await editPreview.locator('[data-phi-across]').waitFor();
    await edit.press('Enter');
    await b.page.locator('.phi-panel[data-phi-state="phi_blocked"]').waitFor();
    const after = await ok(users.bo.get(`/api/v1/spaces/${channel.id}/messages`));
    assert.deepEqual(after.items.map((m) => m.body), ['never mind, I will call the desk', 'her ssn is 987-65-']);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('an answer to a colleague\'s question is read with it, and the composer says so', async () => {
  const channel = await createSpace(users.ana, { name: 'bed-board', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  await assignTemplate(channel.id, 'liaison-strict', (await latestVersion('liaison-strict')).version);
  await ok(users.ana.post(`/api/v1/spaces/${channel.id}/messages`, { body: "what's her dob?" }), 201);

  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await messageWith(b.page, "what's her dob?").waitFor();
    const box = b.page.getByLabel('Message', { exact: true });
    // Alone a date is nothing; as the answer to Ana's question it is her patient's birth date.
    await box.fill('3/4/1950');
    const preview = b.page.locator('.phi-panel[data-phi-state="preview-block"]');
    await preview.waitFor();
    assert.deepEqual(await preview.locator('mark.phi-mark').allTextContents(), ['3/4/1950']);
    assert.match(await preview.locator('[data-phi-across="reply"]').textContent(), /answer to the message before it/);
    assert.equal(await preview.locator('[data-phi-across=""]').count(), 0, 'not a continuation of his own');
    await box.press('Enter');
    const refusal = b.page.locator('.phi-panel[data-phi-state="phi_blocked"]');
    await refusal.waitFor();
    assert.match(await refusal.locator('.phi-text').textContent(), /date/);
    await screenshot(b.page, 'governance-phi-reply');
    const { items } = await ok(users.bo.get(`/api/v1/spaces/${channel.id}/messages`));
    assert.deepEqual(items.map((m) => m.body), ["what's her dob?"]);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a question cannot be edited after a colleague answered it into asking for what the answer holds', async () => {
  const channel = await createSpace(users.ana, { name: 'bed-board-2', kind: 'channel' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  await assignTemplate(channel.id, 'liaison-strict', (await latestVersion('liaison-strict')).version);
  await ok(users.bo.post(`/api/v1/spaces/${channel.id}/messages`, { body: 'anything new?' }), 201);
  await ok(users.ana.post(`/api/v1/spaces/${channel.id}/messages`, { body: '3/4/1950' }), 201);

  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'bo');
    await b.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await messageWith(b.page, '3/4/1950').waitFor();
    await messageAction(b.page, 'anything new?', 'Edit');
    const edit = b.page.getByLabel('Edit message');
    await edit.fill("what's her dob?");
    // The edit's own words are what would make Ana's date a birth date: they are what is marked.
    const preview = b.page.locator('.phi-panel[data-phi-state="preview-block"]');
    await preview.waitFor();
    assert.deepEqual(await preview.locator('mark.phi-mark').allTextContents(), ["what's her dob?"]);
    assert.match(await preview.locator('[data-phi-across="next"]').textContent(), /message after it/);
    await edit.press('Enter');
    await b.page.locator('.phi-panel[data-phi-state="phi_blocked"]').waitFor();
    await screenshot(b.page, 'governance-phi-edit-before-answer');
    const { items } = await ok(users.bo.get(`/api/v1/spaces/${channel.id}/messages`));
    assert.deepEqual(items.map((m) => m.body), ['3/4/1950', 'anything new?']);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a moderator approves a held post and its author sees it go live', async () => {
  const forum = await createSpace(users.ana, { name: 'Carers support', kind: 'community', template: 'patient-forum' });
  await addMember(users.ana, forum.id, users.mo.user.id, 'moderator');
  await addMember(users.ana, forum.id, users.bo.user.id);
  await addMember(users.ana, forum.id, users.cy.user.id);
  const version = await latestVersion('patient-forum');
  assert.equal(version.document.moderation, 'pre-moderation');
  await assignTemplate(forum.id, 'patient-forum', 1);

  const author = await openBrowser();
  const moderator = await openBrowser();
  try {
    await signIn(author.page, server.baseUrl, 'bo');
    await author.page.goto(`${server.baseUrl}/#/space/${forum.id}`);
    await author.page.getByRole('button', { name: /Start a post/ }).click();
    const form = author.page.getByRole('form', { name: 'New post' });
    const text = 'Does anyone have tips for sleeping in the first week after surgery?';
    await form.getByLabel('Message', { exact: true }).fill(text);
    await form.getByRole('button', { name: 'Post' }).click();

    const post = messageWith(author.page, 'tips for sleeping');
    await post.locator('.held-mark', { hasText: 'Waiting for review' }).waitFor();
    await author.page.getByRole('status').filter({ hasText: 'Sent for review' }).waitFor();
    const before = await ok(users.cy.get(`/api/v1/spaces/${forum.id}/messages`));
    assert.equal(before.items.filter((m) => m.body === text).length, 0, 'other members do not see it yet');

    await signIn(moderator.page, server.baseUrl, 'mo');
    await moderator.page.getByRole('link', { name: 'Review queue' }).click();
    await moderator.page.getByRole('heading', { name: 'Review queue' }).waitFor();
    const item = moderator.page.locator('.queue-item', { hasText: 'tips for sleeping' });
    await item.waitFor();
    assert.match(await item.textContent(), /Pre-moderated/);
    await screenshot(moderator.page, 'governance-queue');
    await item.getByRole('button', { name: /^Approve/ }).click();
    await item.waitFor({ state: 'detached' });
    await moderator.page.getByRole('status').filter({ hasText: /Approved/ }).waitFor();

    // Live for the author: the badge goes without a reload, and a notice says so.
    await post.locator('.held-mark').waitFor({ state: 'detached' });
    await author.page.locator('.toast', { hasText: 'approved your post' }).waitFor();
    const after = await ok(users.cy.get(`/api/v1/spaces/${forum.id}/messages`));
    assert.equal(after.items.filter((m) => m.body === text && m.state === 'published').length, 1, 'published for everyone');
    assert.deepEqual(author.errors, []);
    assert.deepEqual(moderator.errors, []);
  } finally {
    await author.close();
    await moderator.close();
  }
});

/** Verifies the chain again from the audit page and waits until the new verdict, verified, replaces the last. */
async function verifyAgain(page) {
  const before = await page.getByTestId('audit-verify-counts').textContent();
  await page.getByRole('button', { name: 'Verify now' }).click();
  await page.waitForFunction((last) => {
    const line = document.querySelector('[data-testid="audit-verify-counts"]');
    return line && line.textContent !== last;
  }, before);
  await waitForText(page.getByTestId('audit-verify-status'), 'Chain verified');
}

test('the audit page shows the chain verified and finds the PHI refusal', async () => {
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'cora');
    await b.page.getByRole('link', { name: 'Compliance', exact: true }).click();
    await b.page.getByRole('link', { name: 'Audit', exact: true }).click();
    const status = b.page.getByTestId('audit-verify-status');
    await b.page.getByRole('button', { name: 'Verify now' }).click();
    await waitForText(status, 'Chain verified');
    assert.match(await b.page.locator('.verify').textContent(), /\d+ records? and \d+ checkpoints? checked .* by cora/);
    assert.match(await b.page.getByTestId('audit-witness').textContent(), /No witness off the host/);
    assert.match(await b.page.getByTestId('audit-signed-tree').textContent(), /^Last signed tree: \d+ records? · root [0-9a-f]{16}… · /);

    await b.page.getByLabel('Action', { exact: true }).fill('message.phi_refuse');
    // The unfiltered rows stay on screen until the search's answer replaces them: wait for that
    // answer and its rows before reading them.
    const searched = b.page.waitForResponse((r) => r.url().includes('/api/v1/audit?') && r.url().includes('phi_refuse'));
    await b.page.getByRole('button', { name: 'Search' }).click();
    await searched;
    await b.page
      .waitForFunction(() => document.querySelector('.audit-table tbody tr')?.textContent.includes('phi_refuse'), null, {
        timeout: 5000,
      })
      .catch(() => {});  // a wrong answer is reported by the assertion below
    const rows = b.page.locator('.audit-table tbody tr');
    await rows.first().waitFor();
    for (const row of await rows.allTextContents()) assert.match(row, /message\.phi_refuse/);
    await screenshot(b.page, 'governance-audit');

    // The refusal's record is in what a checkpoint signed: the officer asks for the proof, sees the
    // server's check of it, and downloads it for anyone holding the public key to check.
    await b.page.waitForTimeout(1500);  // a checkpoint (every second) covers the refusal by now
    await rows.first().getByRole('button', { name: /^Record \d+ details$/ }).click();
    const proof = b.page.getByTestId('audit-proof');
    await proof.getByRole('button', { name: 'Prove it was signed' }).click();
    await proof.getByRole('status').filter({ hasText: 'In the signed tree of' }).waitFor();
    assert.match(await proof.textContent(), /In the signed tree of \d+ records · checkpoint signed .* · root [0-9a-f]{16}… · \d+ hash/);
    const [download] = await Promise.all([
      b.page.waitForEvent('download'),
      proof.getByRole('link', { name: 'Download proof' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^rounds-audit-proof-\d+\.json$/);
    const document = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(document.kind, 'inclusion');
    const checked = runCli(['audit', 'check-proof', await download.path(),
      '--public-key-file', path.join(server.dataDir, 'audit', 'signing.pub')]);
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, new RegExp(`^ok: record ${document.seq} is in the signed tree`, 'm'));

    // A second verification: its verdict (over more records: the first's own two) replaces the first.
    await verifyAgain(b.page);

    // The officer changes the signing key, confirming with the password: the server signs on with
    // the new key, and the next verification follows the hand-over from the first key.
    await b.page.getByRole('button', { name: 'Change signing key' }).click();
    const dialog = b.page.getByRole('dialog');
    await dialog.getByLabel('Reason (optional)').fill('Key custodian left');
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Change key' }).click();
    const changed = b.page.getByTestId('audit-key-changed');
    await changed.waitFor();
    assert.match(await changed.textContent(), /^Signing key changed at record \d+: checkpoints are now signed by [0-9a-f]{16}…/);
    assert.equal(await b.page.getByRole('dialog').count(), 0);
    await verifyAgain(b.page);
    assert.match(await b.page.getByTestId('audit-verify-counts').textContent(), /1 signing key change followed from the first key/);
    // The keys, opened: the first is signing.pub's, the one in use the new one, handed over once.
    const keys = b.page.getByTestId('audit-keys');
    await keys.locator('summary').click();
    assert.equal(await keys.getByTestId('audit-anchor-key').textContent(),
      readFileSync(path.join(server.dataDir, 'audit', 'signing.pub'), 'utf8').trim());
    const newKey = (await changed.textContent()).match(/signed by ([0-9a-f]{16})…/)[1];
    assert.ok((await keys.getByTestId('audit-current-key').textContent()).startsWith(newKey));
    assert.match(await keys.locator('summary').textContent(), new RegExp(`^Signed by key ${newKey}… since .* \\(record \\d+\\) · next change `));
    assert.equal(await keys.getByRole('list', { name: 'Signing key changes' }).locator('li').count(), 1);
    const record = await ok(compliance.get('/api/v1/audit?action=audit.key_changed&limit=1'));
    assert.equal(record.items[0].reason, 'Key custodian left');
    assert.equal(record.items[0].actor.username, 'cora');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

// "Who saw this patient's information": the officer gives an MRN and sees the post that named the
// patient and a colleague's read of it, then follows a record's patient to the same trail.
test('the audit page finds one patient\'s trail by MRN and from a record\'s patient', async () => {
  await ok(compliance.put('/api/v1/patients/QZ-5512', { first: 'Oluwaseun', last: 'Marchetti' }));
  const ward = await createSpace(users.ana, { name: 'Ward 5 handover', kind: 'channel', template: 'clinical-team', visibility: 'private' });
  await addMember(users.ana, ward.id, users.bo.user.id);
  await ok(users.ana.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'Oluwaseun Marchetti back from theatre' }), 201);
  await ok(users.bo.get(`/api/v1/spaces/${ward.id}/messages`));
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'cora');
    await b.page.getByRole('link', { name: 'Compliance', exact: true }).click();
    await b.page.getByRole('link', { name: 'Audit', exact: true }).click();
    await b.page.locator('.audit-table tbody tr').first().waitFor();
    await b.page.getByLabel('Patient MRN').fill('qz5512');
    const searched = b.page.waitForResponse((r) => r.url().includes('/api/v1/audit?') && r.url().includes('patient=qz5512'));
    await b.page.getByRole('button', { name: 'Search' }).click();
    assert.equal((await searched).status(), 200);
    await b.page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('.audit-table tbody tr')].map((r) => r.textContent);
      return rows.some((t) => t.includes('message.create')) && rows.every((t) => t.includes('patient'));
    });
    const rows = await b.page.locator('.audit-table tbody tr').allTextContents();
    assert.ok(rows.some((t) => /message\.list/.test(t) && /User bo/.test(t)), rows.join('\n'));
    assert.ok(rows.every((t) => /1 patient/.test(t)), rows.join('\n'));
    assert.ok(rows.every((t) => !/QZ-?5512/i.test(t)), 'the MRN is on no record');
    await screenshot(b.page, 'governance-audit-patient');

    // From a record's patient: the same trail, by reference, with the search just made on it.
    const patient = b.page.locator('.audit-patients button').first();
    const ref = await patient.getAttribute('title');
    const byRef = b.page.waitForResponse((r) => r.url().includes('/api/v1/audit?') && r.url().includes('patient_ref='));
    await patient.click();
    assert.equal((await byRef).status(), 200);
    await waitForText(b.page.getByTestId('audit-patient-ref').locator('code'), ref);
    await b.page.waitForFunction(() => document.querySelector('.audit-table tbody tr')?.textContent.includes('audit.search'));
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('templates: compare two versions of a template and dry-run one against a space', async () => {
  // A ward template cloned from the staff default, then tightened: version 2 refuses PHI.
  await ok(compliance.post('/api/v1/templates/internal-community/clone', { new_key: 'ward-strict', name: 'Ward (strict)' }), 201);
  const v1 = await latestVersion('ward-strict');
  await ok(compliance.post('/api/v1/templates/ward-strict/versions',
    { document: { ...v1.document, version: v1.version + 1, phi: 'block', attachments: { ...v1.document.attachments, allowed: false } } }), 201);
  const channel = await createSpace(users.ana, { name: 'ward-9', kind: 'channel' });
  await ok(users.ana.post(`/api/v1/spaces/${channel.id}/messages`, { body: `Call the family back on ${PHONE}`, confirm_phi: true }), 201);
  await ok(users.ana.post(`/api/v1/spaces/${channel.id}/messages`, { body: 'Handover at 7' }), 201);
  const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(16, 3)]);
  const scan = await users.ana.request('POST', `/api/v1/spaces/${channel.id}/attachments?name=wound.png`, png,
    { raw: true, headers: { 'content-type': 'image/png' } });
  assert.equal(scan.status, 201, scan.text);
  const withFile = await ok(users.ana.post(`/api/v1/spaces/${channel.id}/messages`, { body: 'Wound photo', attachment_ids: [scan.body.id] }), 201);

  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'cora');
    await b.page.goto(`${server.baseUrl}/#/compliance/templates`);
    await b.page.getByRole('link', { name: 'Ward (strict)' }).click();
    await b.page.getByLabel('From', { exact: true }).selectOption('1');
    await b.page.getByLabel('To', { exact: true }).selectOption('2');
    await b.page.getByRole('button', { name: 'Compare' }).click();
    const diff = b.page.locator('.template-diff');
    await diff.waitFor();
    assert.match(await diff.textContent(), /\/phi\s*"warn"\s*"block"/);

    // What version 2 would do to the ward's messages, before anyone assigns it.
    // The ward's channel is not the officer's: she finds it by name among every space.
    await pickSpace(b.page, 'Space', channel.name);
    await b.page.getByRole('button', { name: 'Dry run' }).click();
    const result = b.page.locator('.dry-run');
    await result.waitFor();
    assert.match(await result.textContent(), /3 messages checked: 2 allowed, 0 warned, 0 held, 1 blocked/);
    assert.match(await result.textContent(), /1 message carries files this version would not take/);
    assert.match(await result.textContent(), /phone number/);
    // Only the messages it would treat differently are listed: the blocked one and the one with a file.
    const rows = result.locator('tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(await rows.filter({ hasText: String(withFile.id) }).textContent(), /allowed.*no files allowed/);
    await screenshot(b.page, 'governance-templates');

    await b.page.getByLabel('Reason for the change', { exact: true }).fill('Ward 9 stops sharing patient details here');
    await b.page.getByRole('button', { name: 'Assign v2' }).click();
    await b.page.getByRole('status').filter({ hasText: 'now runs under ward-strict v2' }).waitFor();
    const space = await ok(users.ana.get(`/api/v1/spaces/${channel.id}`));
    assert.deepEqual([space.template.key, space.template.version, space.template.phi], ['ward-strict', 2, 'block']);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('legal holds are placed and released, and an export of a space downloads its transcript, alone and in a ZIP, and removes it once delivered', async () => {
  const channel = await createSpace(users.ana, { name: 'incident-review', kind: 'channel' });
  await ok(users.ana.post(`/api/v1/spaces/${channel.id}/messages`, { body: 'Falls review for the night shift, draft one' }), 201);
  const b = await openBrowser();
  try {
    await signIn(b.page, server.baseUrl, 'cora');
    await b.page.goto(`${server.baseUrl}/#/compliance/holds`);
    await b.page.getByRole('heading', { name: 'Legal holds' }).waitFor();
    await b.page.getByText('Place a hold').click();
    await b.page.getByLabel('Name', { exact: true }).fill('Matter 2026-114');
    await b.page.getByLabel('Reason (matter, case number)').fill('Litigation notice of 29 November');
    await pickSpace(b.page, 'Spaces', channel.name);
    await b.page.getByRole('button', { name: 'Place hold' }).click();
    const active = b.page.getByRole('region', { name: 'Active holds' });
    const row = active.locator('tr', { hasText: 'Matter 2026-114' });
    await row.waitFor();
    assert.match(await row.textContent(), /Spaces: incident-review/);
    await row.getByRole('button', { name: 'Release Matter 2026-114' }).click();
    // Releasing lets evidence go: the officer confirms it with the password again, and a wrong one
    // is refused under its field with the hold still active.
    const release = b.page.getByRole('dialog');
    await release.getByLabel('Your password').fill('not the password');
    await release.getByRole('button', { name: 'Release hold' }).click();
    await release.locator('.field-error').waitFor();
    assert.equal(await active.locator('tr', { hasText: 'Matter 2026-114' }).count(), 1);
    await release.getByLabel('Your password').fill(PASSWORD);
    await release.getByRole('button', { name: 'Release hold' }).click();
    await b.page.getByRole('region', { name: 'Released holds' }).locator('tr', { hasText: 'Matter 2026-114' }).waitFor();
    assert.equal(await active.locator('tr', { hasText: 'Matter 2026-114' }).count(), 0);

    await b.page.getByRole('link', { name: 'Exports', exact: true }).click();
    await pickSpace(b.page, 'Spaces', channel.name);
    await b.page.getByRole('button', { name: 'Run export' }).click();
    const done = b.page.locator('.export-done');
    await done.waitFor();
    assert.match(await done.textContent(), /1 message\b/);
    const href = await done.getByRole('link', { name: 'transcript.txt' }).getAttribute('href');
    const transcript = await b.page.evaluate(async (url) => (await fetch(url)).text(), href);
    assert.match(transcript, /Falls review for the night shift/);
    // All files in one archive: a ZIP that unzip reads, holding the same transcript.
    const [download] = await Promise.all([
      b.page.waitForEvent('download'),
      done.getByRole('link', { name: 'All files (.zip)' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^export-[0-9a-f]+\.zip$/);
    const archive = await download.path();
    const name = `${download.suggestedFilename().replace(/\.zip$/, '')}/transcript.txt`;
    const unzipped = spawnSync('unzip', ['-p', archive, name], { encoding: 'utf8' });
    assert.equal(unzipped.status, 0, unzipped.stderr);
    assert.equal(unzipped.stdout, transcript);
    await b.page.locator('.exports-table tbody tr').first().waitFor();
    assert.match(await b.page.locator('.exports-table tbody tr').first().textContent(), /spaces incident-review/);
    await screenshot(b.page, 'governance-exports');
    // Delivered: its files are removed after a confirmation, and the row says so with no downloads.
    const first = b.page.locator('.exports-table tbody tr').first();
    const remove = first.getByRole('button', { name: /^Remove the files of export / });
    // Its label on one line: a table cell may break long ids anywhere, never a button's words.
    const lines = await remove.evaluate((button) => {
      const range = document.createRange();
      range.selectNodeContents(button);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    assert.equal(lines, 1);
    await remove.click();
    await b.page.getByRole('dialog').getByLabel('Your password').fill(PASSWORD);
    await b.page.getByRole('dialog').getByRole('button', { name: 'Remove files' }).click();
    await first.getByText(/Removed from the server .* by Cora/).waitFor();
    assert.equal(await first.getByRole('link').count(), 0);
    const stale = await b.page.evaluate(async (url) => (await fetch(url)).status, href);
    assert.equal(stale, 409);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('every control on the compliance screens has a label', async () => {
  const b = await openBrowser();
  const unlabelled = () => unlabelledControls(b.page);
  try {
    await signIn(b.page, server.baseUrl, 'cora');
    const open = (summary) => async () => { await b.page.locator('summary', { hasText: summary }).click(); };
    const screens = [
      ['#/compliance/moderation', null], ['#/compliance/audit', null], ['#/compliance/templates', open('Create a template from a document')],
      ['#/compliance/templates/internal-community', open('New version')], ['#/compliance/templates/internal-community', open('Clone as a new template')],
      ['#/compliance/holds', open('Place a hold')], ['#/compliance/exports', null],
    ];
    for (const [hash, reveal] of screens) {
      await b.page.goto(`${server.baseUrl}/${hash}`);
      await b.page.locator('#main h2').first().waitFor();
      if (reveal) await reveal();
      await b.page.waitForTimeout(300);
      assert.deepEqual(await unlabelled(), [], `unlabelled controls on ${hash}`);
    }
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
