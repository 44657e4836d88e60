// Exporting a space's conversation in the browser: its owner opens the Export panel and downloads
// the transcript, which holds what was posted; a member sees no Export, nor does the owner of a
// space whose template forbids exports; the download is on the audit trail.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createSpace, addMember, createOfficer } from '../integration/fixtures.mjs';
import { openBrowser, signIn, startAppServer, post } from './browser.mjs';

let server, admin, users;

test.before(async () => {
  ({ server, admin, users } = await startAppServer(['ana', 'bo']));
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('an owner downloads the transcript; members and forbidding templates show no Export', async () => {
  const channel = await createSpace(users.ana, { name: 'Ward 9 handover', kind: 'channel', visibility: 'private' });
  await addMember(users.ana, channel.id, users.bo.user.id);
  const root = await post(users.bo, channel.id, { body: 'Bed 12 discharged to home' });
  await post(users.ana, channel.id, { body: 'Thanks, room cleaned', parent_id: root.id });
  const forum = await createSpace(users.ana, { name: 'Recovery circle', kind: 'community', template: 'patient-forum' });

  const owner = await openBrowser();
  const member = await openBrowser();
  try {
    await signIn(owner.page, server.baseUrl, 'ana');
    await owner.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await owner.page.getByRole('button', { name: 'Export' }).click();
    const panel = owner.page.getByRole('complementary', { name: 'Export' });
    await panel.getByText('Every export is recorded in the audit trail').waitFor();
    const [download] = await Promise.all([
      owner.page.waitForEvent('download'),
      panel.getByRole('link', { name: 'Transcript (.txt)' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^ward-9-handover-\d{4}-\d{2}-\d{2}\.txt$/);
    const text = readFileSync(await download.path(), 'utf8');
    assert.match(text, /User bo \(#\d+\): Bed 12 discharged to home/);
    assert.match(text, /↳ User ana \(#\d+, reply to #\d+\): Thanks, room cleaned/);
    assert.match(text, /End of export: 2 messages\./);

    // A template that forbids exports: no Export for its owner either.
    await owner.page.goto(`${server.baseUrl}/#/space/${forum.id}`);
    await owner.page.getByRole('heading', { name: 'Recovery circle' }).waitFor();
    await owner.page.getByRole('button', { name: 'Members' }).waitFor();
    assert.equal(await owner.page.getByRole('button', { name: 'Export' }).count(), 0);

    // A member of the channel sees none.
    await signIn(member.page, server.baseUrl, 'bo');
    await member.page.goto(`${server.baseUrl}/#/space/${channel.id}`);
    await member.page.getByText('Bed 12 discharged to home').waitFor();
    assert.equal(await member.page.getByRole('button', { name: 'Export' }).count(), 0);
    assert.deepEqual(owner.errors, []);
    assert.deepEqual(member.errors, []);
  } finally {
    await owner.close();
    await member.close();
  }

  // The download is on record, with its count and without the text.
  const officer = await createOfficer(server, admin);
  const trail = await officer.get('/api/v1/audit?action=space.export');
  assert.equal(trail.status, 200, trail.text);
  const mine = trail.body.items.filter((r) => r.object_id === String(channel.id));
  assert.equal(mine.length, 1);
  assert.equal(mine[0].outcome, 'success');
  assert.equal(mine[0].details.count, 2);
  assert.ok(!JSON.stringify(mine[0]).includes('Bed 12'));
});
