// Legal holds and e-discovery exports over HTTP against the real server: only compliance officers
// may use them (refusals are recorded), a hold keeps a deleted message's text for export, an
// export's manifest hashes match the files served, and its ZIP archive holds them, and the CLI sees
// the same holds.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { runCli } from '../lib/server.mjs';
import { startServer, createUsers, createSpace, PASSWORD } from './fixtures.mjs';

let server, admin, users, officer, space;

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['hana', 'ivo']);
  const created = await admin.post('/api/v1/users', {
    username: 'quinn', display_name: 'Quinn Compliance', email: 'quinn@example.org',
    job_role: 'Privacy Officer', password: PASSWORD, is_compliance: true,
  });
  assert.equal(created.status, 201, created.text);
  officer = server.client();
  await officer.login('quinn', PASSWORD);
  space = await createSpace(users.hana, { name: 'Discovery Ward', visibility: 'public', join_policy: 'open' });
  assert.equal((await users.ivo.post(`/api/v1/spaces/${space.id}/join`)).status < 300, true);
});

// The entries of a ZIP archive by name, read through its central directory and inflated by
// node's zlib: nothing of the server's code reads them back.
function unzipEntries(zip) {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries = new Map();
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'central directory header');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    assert.equal(zip.readUInt32LE(local), 0x04034b50, 'local header');
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    assert.equal(method, 8, 'deflated');
    const content = inflateRawSync(zip.subarray(data, data + compressed));
    assert.equal(content.length, size, name);
    entries.set(name, content);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('only compliance officers manage holds and exports; refusals are recorded', async () => {
  for (const client of [users.hana, admin]) {
    for (const [method, url, body] of [
      ['GET', '/api/v1/legal-holds'],
      ['POST', '/api/v1/legal-holds', { name: 'x', custodian_ids: [1] }],
      ['POST', '/api/v1/legal-holds/1/release', {}],
      ['GET', '/api/v1/exports'],
      ['POST', '/api/v1/exports', {}],
      ['GET', '/api/v1/exports/abc/files/manifest.json'],
    ]) {
      const res = await client.request(method, url, body);
      assert.equal(res.status, 403, `${method} ${url}: ${res.text}`);
      assert.equal(res.body.code, 'compliance_required');
    }
  }
  assert.equal((await users.hana.post('/api/v1/retention/run')).status, 403);
  const run = await admin.post('/api/v1/retention/run');
  assert.equal(run.status, 200, run.text);  // administrators may run retention by hand
  assert.equal(run.body.complete, true);
  const denied = await officer.get('/api/v1/audit?outcome=denied&limit=200');
  assert.equal(denied.status, 200, denied.text);
  assert.ok(denied.body.items.filter((r) => r.reason === 'compliance_required' && r.action.startsWith('legal_hold.')).length >= 4);
});

test('a hold keeps a deleted message for export; the manifest hashes match the served files', async () => {
  const kept = await users.ivo.post(`/api/v1/spaces/${space.id}/messages`, { body: 'the invoice figures were altered' });
  assert.equal(kept.status, 201, kept.text);
  const other = await users.hana.post(`/api/v1/spaces/${space.id}/messages`, { body: 'lunch at noon' });
  assert.equal(other.status, 201, other.text);
  const blank = await officer.post('/api/v1/legal-holds', { name: '   ', custodian_ids: [users.ivo.user.id] });
  assert.deepEqual([blank.status, blank.body.code], [400, 'invalid_value']);
  const twice = await officer.post('/api/v1/legal-holds', { name: 'Twice named', custodian_ids: [users.ivo.user.id, users.ivo.user.id] });
  assert.equal(twice.status, 201, twice.text);
  assert.deepEqual(twice.body.custodian_ids, [users.ivo.user.id]);
  assert.equal((await officer.post(`/api/v1/legal-holds/${twice.body.id}/release`, { password: PASSWORD })).status, 200);
  const bad = await officer.post('/api/v1/legal-holds', { name: 'No scope' });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.body.code, 'hold_scope_required');
  const hold = await officer.post('/api/v1/legal-holds', {
    name: 'Matter 2026-17', reason: 'billing dispute', custodian_ids: [users.ivo.user.id], from: null, to: null,
  });
  assert.equal(hold.status, 201, hold.text);
  assert.equal(hold.body.active, true);
  const listed = await officer.get('/api/v1/legal-holds');
  assert.ok(listed.body.items.some((h) => h.id === hold.body.id));

  // Ivo deletes his message: gone for users, kept for the hold.
  assert.equal((await users.ivo.del(`/api/v1/messages/${(kept.body.message ?? kept.body).id}`)).status, 204);
  const seen = await users.hana.get(`/api/v1/spaces/${space.id}/messages`);
  assert.ok(!JSON.stringify(seen.body).includes('invoice figures'));

  const exported = await officer.post('/api/v1/exports', { custodian_ids: [users.ivo.user.id], keywords: ['invoice'] });
  assert.equal(exported.status, 201, exported.text);
  const manifest = exported.body;
  assert.equal(manifest.counts.messages, 1);
  assert.equal(manifest.counts.held_deletions, 1);
  assert.equal(manifest.created_by.username, 'quinn');
  assert.ok(existsSync(path.join(server.dataDir, 'exports', manifest.export_id, 'manifest.json')));
  for (const file of manifest.files) {
    const res = await officer.get(`/api/v1/exports/${manifest.export_id}/files/${file.name}`);
    assert.equal(res.status, 200, `${file.name}: ${res.text}`);
    assert.match(res.headers.get('content-disposition'), /attachment/);
    assert.equal(createHash('sha256').update(res.text).digest('hex'), file.sha256, file.name);
    // Sent from the file on disk: its length, and HEAD gives the headers alone.
    assert.equal(Number(res.headers.get('content-length')), file.bytes, file.name);
    const head = await officer.request('HEAD', `/api/v1/exports/${manifest.export_id}/files/${file.name}`);
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), file.bytes);
    assert.equal(head.text, '');
  }
  // The whole export in one ZIP archive, with its digest, and the download on record with it.
  const archived = await fetch(`${server.baseUrl}/api/v1/exports/${manifest.export_id}/archive`, { headers: officer.headers() });
  assert.equal(archived.status, 200);
  assert.equal(archived.headers.get('content-type'), 'application/zip');
  assert.equal(archived.headers.get('content-disposition'), `attachment; filename="export-${manifest.export_id}.zip"`);
  const zip = Buffer.from(await archived.arrayBuffer());
  const digest = createHash('sha256').update(zip).digest();
  assert.equal(archived.headers.get('repr-digest'), `sha-256=:${digest.toString('base64')}:`);
  const entries = unzipEntries(zip);
  assert.deepEqual([...entries.keys()].sort(), [...manifest.files.map((f) => f.name), 'manifest.json']
    .map((n) => `export-${manifest.export_id}/${n}`).sort());
  for (const file of manifest.files) {
    assert.equal(createHash('sha256').update(entries.get(`export-${manifest.export_id}/${file.name}`)).digest('hex'), file.sha256, file.name);
  }
  assert.deepEqual(JSON.parse(entries.get(`export-${manifest.export_id}/manifest.json`)).files, manifest.files);
  const downloads = await officer.get('/api/v1/audit?action=ediscovery.download&limit=50');
  const archivedRecord = downloads.body.items.find((r) => r.details.file === `export-${manifest.export_id}.zip`);
  assert.ok(archivedRecord, JSON.stringify(downloads.body));
  assert.equal(archivedRecord.details.sha256, digest.toString('hex'));
  assert.equal((await users.hana.get(`/api/v1/exports/${manifest.export_id}/archive`)).status, 403);
  assert.equal((await officer.get('/api/v1/exports/0123456789abcdef01234567/archive')).status, 404);

  const transcript = await officer.get(`/api/v1/exports/${manifest.export_id}/files/transcript.txt`);
  assert.match(transcript.text, /the invoice figures were altered {2}\{DELETED/);
  assert.ok(!transcript.text.includes('lunch at noon'));
  assert.equal((await officer.get(`/api/v1/exports/${manifest.export_id}/files/..%2Frounds.db`)).status, 404);
  const exports = await officer.get('/api/v1/exports');
  assert.ok(exports.body.items.some((e) => e.id === manifest.export_id && e.message_count === 1 &&
    e.expires_at === e.created_at + 30 * 86_400_000 && e.removed_at === null));

  // Delivered, its files are removed: the record stays, marked; downloads say why they fail.
  assert.equal((await users.hana.request('DELETE', `/api/v1/exports/${manifest.export_id}`, { password: PASSWORD })).status, 403);
  // A session alone removes nothing: the officer's password is asked again, and a wrong one is
  // refused on record with the files left in place.
  const unconfirmed = await officer.del(`/api/v1/exports/${manifest.export_id}`);
  assert.deepEqual([unconfirmed.status, unconfirmed.body.code, unconfirmed.body.field], [400, 'missing_field', '/password']);
  const wrong = await officer.request('DELETE', `/api/v1/exports/${manifest.export_id}`, { password: 'not the password' });
  assert.deepEqual([wrong.status, wrong.body.code], [403, 'invalid_credentials']);
  assert.ok(existsSync(path.join(server.dataDir, 'exports', manifest.export_id, 'transcript.txt')));
  const refusal = await officer.get('/api/v1/audit?action=ediscovery.remove&limit=10');
  assert.ok(refusal.body.items.some((r) => r.outcome === 'failure'), JSON.stringify(refusal.body.items));
  const removed = await officer.request('DELETE', `/api/v1/exports/${manifest.export_id}`, { password: PASSWORD });
  assert.equal(removed.status, 200, removed.text);
  assert.equal(removed.body.removed_by_user.username, 'quinn');
  assert.ok(!existsSync(path.join(server.dataDir, 'exports', manifest.export_id)));
  const gone = await officer.get(`/api/v1/exports/${manifest.export_id}/archive`);
  assert.equal(gone.status, 409);
  assert.equal(gone.body.code, 'export_removed');
  assert.equal((await officer.request('DELETE', `/api/v1/exports/${manifest.export_id}`, { password: PASSWORD })).status, 409);
  const removal = await officer.get('/api/v1/audit?action=ediscovery.remove&limit=10');
  assert.ok(removal.body.items.some((r) => r.object_id === manifest.export_id && r.outcome === 'success' && r.details.reason === 'removed'));

  // The audit names the export and its counts, never the keyword or the text.
  const audit = await officer.get('/api/v1/audit?action=ediscovery.export&limit=10');
  const record = audit.body.items.find((r) => r.object_id === manifest.export_id);
  assert.ok(record, JSON.stringify(audit.body));
  assert.equal(record.details.messages, 1);
  assert.ok(!JSON.stringify(record).includes('invoice'));

  // Released once; a second release conflicts. The CLI lists it as released.
  const guessed = await officer.post(`/api/v1/legal-holds/${hold.body.id}/release`, { password: 'not the password' });
  assert.deepEqual([guessed.status, guessed.body.code], [403, 'invalid_credentials']);
  assert.equal((await officer.get('/api/v1/legal-holds')).body.items.find((h) => h.id === hold.body.id).active, true);
  const released = await officer.post(`/api/v1/legal-holds/${hold.body.id}/release`, { password: PASSWORD });
  assert.equal(released.status, 200, released.text);
  assert.equal(released.body.active, false);
  const again = await officer.post(`/api/v1/legal-holds/${hold.body.id}/release`, { password: PASSWORD });
  assert.equal(again.status, 409);
  const cli = runCli(['hold', 'list', '--all'], { dataDir: server.dataDir });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, new RegExp(`^${hold.body.id}\\tMatter 2026-17\\t.*released$`, 'm'));
});

test('the CLI places holds, runs retention, exports to a folder, archives and removes the export', async () => {
  const created = runCli(['hold', 'create', '--name', 'CLI matter', '--custodian', 'hana', '--space', String(space.id),
    '--from', '2020-01-01'], { dataDir: server.dataDir });
  assert.equal(created.status, 0, created.stderr);
  const hold = JSON.parse(created.stdout);
  assert.deepEqual(hold.custodian_ids, [users.hana.user.id]);
  assert.equal(hold.from, Date.UTC(2020, 0, 1));
  const run = runCli(['retention', 'run'], { dataDir: server.dataDir });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).complete, true);
  const out = path.join(server.dataDir, 'cli-export');
  const exported = runCli(['ediscovery', 'export', '--out', out, '--space', String(space.id), '--keyword', 'lunch'],
    { dataDir: server.dataDir });
  assert.equal(exported.status, 0, exported.stderr);
  assert.match(exported.stdout, /exported 1 messages/);
  assert.ok(existsSync(path.join(out, 'transcript.txt')));
  // The command line archives it (Info-ZIP's unzip finds every file intact), never over a file.
  const exportId = /\(export ([0-9a-f]+)\)/.exec(exported.stdout)[1];
  const listed = runCli(['ediscovery', 'list'], { dataDir: server.dataDir });
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`^${exportId}\\t\\d{4}-\\d\\d-\\d\\dT[^\\t]+\\t1 messages\\tkept\\n`, 'm'));  // written elsewhere: no expiry
  assert.match(listed.stdout, /\tremoved \d{4}-/);  // the export the officer removed over HTTP
  const zipPath = path.join(server.dataDir, 'cli-export.zip');
  const zipped = runCli(['ediscovery', 'archive', '--id', exportId, '--out', zipPath], { dataDir: server.dataDir });
  assert.equal(zipped.status, 0, zipped.stderr);
  assert.match(zipped.stdout, new RegExp(`SHA-256 ${createHash('sha256').update(readFileSync(zipPath)).digest('hex')}\\)`));
  const tested = spawnSync('unzip', ['-t', zipPath], { encoding: 'utf8' });
  assert.equal(tested.status, 0, tested.stdout + tested.stderr);
  assert.match(tested.stdout, /No errors detected/);
  assert.match(tested.stdout, new RegExp(`export-${exportId}/transcript.txt +OK`));
  const twice = runCli(['ediscovery', 'archive', '--id', exportId, '--out', zipPath], { dataDir: server.dataDir });
  assert.equal(twice.status, 1);
  assert.match(twice.stderr, /cannot create/);
  // A file changed since the export: no archive, and the file named.
  writeFileSync(path.join(out, 'edits.json'), '[{"forged": true}]\n');
  const refused = runCli(['ediscovery', 'archive', '--id', exportId, '--out', `${zipPath}.2`], { dataDir: server.dataDir });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /edits\.json is not as it was exported/);
  assert.ok(!existsSync(`${zipPath}.2`));
  // Removed by the command line: its own files go, what else is in the folder stays.
  writeFileSync(path.join(out, 'case-notes.txt'), 'for counsel\n');
  const removed = runCli(['ediscovery', 'remove', '--id', exportId], { dataDir: server.dataDir });
  assert.equal(removed.status, 0, removed.stderr);
  assert.match(removed.stdout, /removed the files of export/);
  assert.ok(!existsSync(path.join(out, 'transcript.txt')));
  assert.ok(existsSync(path.join(out, 'case-notes.txt')));
  const twice2 = runCli(['ediscovery', 'remove', '--id', exportId], { dataDir: server.dataDir });
  assert.equal(twice2.status, 1);
  assert.match(twice2.stderr, /files were removed from the server on \d{4}-/);
  assert.match(runCli(['ediscovery', 'list'], { dataDir: server.dataDir }).stdout, new RegExp(`^${exportId}\\t.*\\tremoved \\d{4}-`, 'm'));
  const unknown = runCli(['hold', 'create', '--name', 'x', '--custodian', 'nobody-here'], { dataDir: server.dataDir });
  assert.equal(unknown.status, 2);
  assert.equal(runCli(['hold', 'release', String(hold.id)], { dataDir: server.dataDir }).status, 0);
});

test('the CLI reads the times a hold covers exactly, zone and milliseconds included, and refuses impossible ones', async () => {
  const create = (from, to) => runCli(['hold', 'create', '--name', 'Timed matter', '--space', String(space.id), '--from', from,
    ...(to ? ['--to', to] : [])], { dataDir: server.dataDir });
  const zoned = create('2026-11-24T13:39:20.250+05:00', '2026-11-25T00:00:00Z');
  assert.equal(zoned.status, 0, zoned.stderr);
  const hold = JSON.parse(zoned.stdout);
  assert.equal(hold.from, Date.UTC(2026, 10, 24, 8, 39, 20, 250));
  assert.equal(hold.to, Date.UTC(2026, 10, 25));
  assert.equal(runCli(['hold', 'release', String(hold.id)], { dataDir: server.dataDir }).status, 0);
  for (const bad of ['2026-13-45', '2026-02-30', '2026-11-24T25:00:00Z', '2026-11-24garbage', '2026-11-24T10:00:00',
    '99999999999999999999']) {
    const r = create(bad);
    assert.equal(r.status, 2, `${bad}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /--from takes/, bad);
  }
  const listed = runCli(['hold', 'list', '--all'], { dataDir: server.dataDir }).stdout;
  assert.equal((listed.match(/Timed matter/g) || []).length, 1, 'nothing was created from a time that was refused');
  // The audit export takes the same times, and a range that ends before it starts is an error.
  const reversed = runCli(['audit', 'export', '--format', 'csv', '--from', '2027-01-01', '--to', '2026-01-01'], { dataDir: server.dataDir });
  assert.equal(reversed.status, 2);
  assert.match(reversed.stderr, /--from must be before --to/);
  const impossible = runCli(['audit', 'export', '--format', 'csv', '--from', '2026-02-30'], { dataDir: server.dataDir });
  assert.equal(impossible.status, 2);
});

test('an export names the message each earlier version belongs to, with its title, and finds words in old titles', async () => {
  const posted = await users.hana.post(`/api/v1/spaces/${space.id}/messages`,
    { kind: 'discussion', title: 'Original title zulukw', body: 'first body' });
  assert.equal(posted.status, 201, posted.text);
  const other = await users.hana.post(`/api/v1/spaces/${space.id}/messages`, { body: 'another first body' });
  assert.equal((await users.hana.patch(`/api/v1/messages/${posted.body.id}`, { title: 'Clean title', body: 'second body' })).status, 200);
  assert.equal((await users.hana.patch(`/api/v1/messages/${other.body.id}`, { body: 'another second body' })).status, 200);
  const exported = await officer.post('/api/v1/exports', { space_ids: [space.id], keywords: ['ZULUKW'] });
  assert.equal(exported.status, 201, exported.text);
  assert.equal(exported.body.counts.messages, 1, 'found by a word only its earlier title had');
  const edits = (await officer.get(`/api/v1/exports/${exported.body.export_id}/files/edits.json`)).body;
  const versions = (Array.isArray(edits) ? edits : edits.items);
  assert.ok(versions.length >= 2);
  for (const v of versions) assert.equal(v.message_id, posted.body.id);
  assert.ok(versions.some((v) => v.title === 'Original title zulukw' && v.body === 'first body'), JSON.stringify(versions));
  // Keywords are blind to case and accents, composed or decomposed.
  const dessert = await users.hana.post(`/api/v1/spaces/${space.id}/messages`, { body: 'Bring the CRÈME BRÛLÉE to the huddle' });
  assert.equal(dessert.status, 201, dessert.text);
  for (const keyword of ['crème brûlée', 'creme brulee', 'cre\u0300me', 'BRÛLÉE']) {
    const found = await officer.post('/api/v1/exports', { space_ids: [space.id], keywords: [keyword] });
    assert.equal(found.status, 201, found.text);
    assert.equal(found.body.counts.messages, 1, keyword);
  }
  // The list pages, newest first, every export once.
  const listed = [];
  for (let cursor = '', pages = 0; pages < 50; pages++) {
    const page = await officer.get(`/api/v1/exports?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(page.status, 200, page.text);
    assert.ok(page.body.items.length <= 2);
    listed.push(...page.body.items.map((e) => e.id));
    if (!page.body.next_cursor) break;
    cursor = page.body.next_cursor;
  }
  const whole = (await officer.get('/api/v1/exports')).body;
  assert.equal(whole.next_cursor, null);
  assert.deepEqual(listed, whole.items.map((e) => e.id));
  assert.equal(new Set(listed).size, listed.length);
  assert.ok(listed.length >= 5);
  for (const query of ['cursor=garbage', 'cursor=1.', 'limit=0', 'limit=201']) {
    const res = await officer.get(`/api/v1/exports?${query}`);
    assert.deepEqual([res.status, res.body.code], [400, 'invalid_value'], query);
  }
  const both = await officer.post('/api/v1/exports', { space_ids: [space.id], keywords: ['first body'] });
  const all = (await officer.get(`/api/v1/exports/${both.body.export_id}/files/edits.json`)).body;
  const ids = new Set((Array.isArray(all) ? all : all.items).map((v) => v.message_id));
  assert.ok(ids.has(posted.body.id) && ids.has(other.body.id), 'each version says whose it is');
});
