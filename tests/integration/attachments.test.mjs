// Attachments over HTTP against the real binary: an upload is the raw file as the body, checked by
// its content against the space's template; a post attaches it; the download comes back byte for
// byte with headers that keep a browser from running it (nosniff, a sandbox CSP, no caching, a
// download for anything that is not an image, PDF or plain text); readers outside the space get
// 404; the listener takes upload bodies up to max_attachment_bytes on that route only.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, createGuest, createSpace, addMember, createOfficer, assignNewVersion, PASSWORD } from './fixtures.mjs';

let server, admin, users, channel, officer;

const png = (n = 64) => Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(n, 7)]);

test.before(async () => {
  ({ server, admin } = await startServer({ env: { ROUNDS_MAX_ATTACHMENT_BYTES: String(3 * 1024 * 1024) } }));
  users = await createUsers(server, admin, ['ada', 'bea', 'cal']);
  channel = await createSpace(users.ada, { kind: 'channel', name: 'imaging', visibility: 'private', join_policy: 'invite' });
  await addMember(users.ada, channel.id, users.bea.user.id);
  officer = await createOfficer(server, admin);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

const upload = (client, spaceId, name, bytes, type, query = '') =>
  client.request('POST', `/api/v1/spaces/${spaceId}/attachments?name=${encodeURIComponent(name)}${query}`, bytes,
    { raw: true, headers: { 'content-type': type } });

test('upload, post and download: the same bytes, served so that they cannot run', async () => {
  const bytes = png(1000);
  const up = await upload(users.ada, channel.id, 'CT scan — día 2.png', bytes, 'image/png');
  assert.equal(up.status, 201, up.text);
  assert.equal(up.body.content_type, 'image/png');
  assert.equal(up.body.size, bytes.length);
  const posted = await users.ada.post(`/api/v1/spaces/${channel.id}/messages`, { body: '', attachment_ids: [up.body.id] });
  assert.equal(posted.status, 201, posted.text);
  assert.deepEqual(posted.body.attachments.map((a) => a.id), [up.body.id]);

  const res = await fetch(`${server.baseUrl}/api/v1/attachments/${up.body.id}`, { headers: users.bea.headers() });
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-security-policy'), /^sandbox; default-src 'none'; object-src 'none'/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('x-content-sha256'), up.body.sha256);
  assert.equal(res.headers.get('content-disposition'),
    `inline; filename="CT scan ___ d__a 2.png"; filename*=UTF-8''CT%20scan%20%E2%80%94%20d%C3%ADa%202.png`);

  assert.equal((await users.cal.get(`/api/v1/attachments/${up.body.id}`)).status, 404, 'not a member');
  assert.equal((await server.client().get(`/api/v1/attachments/${up.body.id}`)).status, 401);
  const page = await users.bea.get(`/api/v1/spaces/${channel.id}/messages`);
  assert.deepEqual(page.body.items[0].attachments[0], {
    id: up.body.id, name: 'CT scan — día 2.png', content_type: 'image/png', size: bytes.length, sha256: up.body.sha256,
  });
});

test('refusals name their reason; nothing refused is stored', async () => {
  const text = await upload(users.ada, channel.id, 'notes.txt', Buffer.from('hello\n'), 'text/plain');
  assert.equal(text.status, 422);
  assert.equal(text.body.code, 'attachment_type_not_allowed');
  const lying = await upload(users.ada, channel.id, 'x.png', Buffer.from('<html><script>alert(1)</script>'), 'image/png');
  assert.equal(lying.status, 400);
  assert.equal(lying.body.code, 'attachment_type_mismatch');
  assert.equal((await upload(users.ada, channel.id, '../../etc/passwd', png(), 'image/png')).body.code, 'invalid_file_name');
  assert.equal((await upload(users.ada, channel.id, 'x.png', Buffer.alloc(0), 'image/png')).body.code, 'empty_file');
  const outsider = await upload(users.cal, channel.id, 'x.png', png(), 'image/png');
  assert.equal(outsider.status, 404, outsider.text);
  const phone = await upload(users.ada, channel.id, 'call 617-555-0142.png', png(), 'image/png');
  assert.equal(phone.status, 422);
  assert.equal(phone.body.code, 'phi_warning');
  assert.equal(phone.body.findings[0].field, 'name');
  const confirmed = await upload(users.ada, channel.id, 'call 617-555-0142.png', png(), 'image/png', '&confirm_phi=true');
  assert.equal(confirmed.status, 201, confirmed.text);
  assert.deepEqual(confirmed.body.phi_types, ['phone']);
  // A cookie session needs its CSRF token for an upload like any other change.
  const browser = server.client();
  await browser.login('ada', PASSWORD, { cookie: true });
  const noCsrf = await fetch(`${server.baseUrl}/api/v1/spaces/${channel.id}/attachments?name=x.png`, {
    method: 'POST', body: png(), headers: { cookie: browser.cookie, 'content-type': 'image/png' },
  });
  assert.equal(noCsrf.status, 403);
  // The uploader takes an unposted file back; a posted one belongs to its message.
  assert.equal((await users.bea.del(`/api/v1/attachments/${confirmed.body.id}`)).status, 404);
  assert.equal((await users.ada.del(`/api/v1/attachments/${confirmed.body.id}`)).status, 204);
  assert.equal((await users.ada.get(`/api/v1/attachments/${confirmed.body.id}`)).status, 404);
});

test('markup a template lets in is downloaded, never shown', async () => {
  const { items } = (await officer.get('/api/v1/templates')).body;
  const base = items.filter((t) => t.key === 'internal-community').sort((a, b) => b.version - a.version)[0];
  const version = await officer.post('/api/v1/templates/internal-community/versions', {
    document: { ...base.document, version: base.version + 1, attachments: { allowed: true, types: ['image/svg+xml', 'text/plain'], max_bytes: 4096 } },
  });
  assert.equal(version.status, 201, version.text);
  const space = await createSpace(users.ada, { kind: 'channel', name: 'drawings', visibility: 'private', join_policy: 'invite' });
  const assigned = await officer.post(`/api/v1/spaces/${space.id}/template`,
    { key: 'internal-community', version: version.body.version, reason: 'Diagrams for the ward' });
  assert.equal(assigned.status, 200, assigned.text);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>');
  const up = await upload(users.ada, space.id, 'plan.svg', svg, 'image/svg+xml');
  assert.equal(up.status, 201, up.text);
  const res = await fetch(`${server.baseUrl}/api/v1/attachments/${up.body.id}`, { headers: users.ada.headers() });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  assert.match(res.headers.get('content-disposition'), /^attachment; filename="plan.svg"/);
  const big = await upload(users.ada, space.id, 'big.txt', Buffer.alloc(5000, 'a'), 'text/plain');
  assert.equal(big.status, 413);
  assert.equal(big.body.code, 'attachment_too_large');
});

test('only the upload route takes bodies past max_body_bytes, and only up to max_attachment_bytes', async () => {
  const twoMiB = png(2 * 1024 * 1024);
  const up = await upload(users.ada, channel.id, 'large.png', twoMiB, 'image/png');
  assert.equal(up.status, 201, up.text);
  assert.equal(up.body.size, twoMiB.length);
  const json = await users.ada.request('POST', `/api/v1/spaces/${channel.id}/messages`,
    JSON.stringify({ body: 'x'.repeat(2 * 1024 * 1024) }), { raw: true });
  assert.equal(json.status, 413);
  assert.equal(json.body.code, 'payload_too_large');
  const tooBig = await upload(users.ada, channel.id, 'huge.png', png(3 * 1024 * 1024 + 1), 'image/png');
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.body.code, 'payload_too_large');
  assert.match(tooBig.body.detail, /3145728 bytes/);
});

// Whether someone is a patient is protected, and a guest is not the organization's staff: a guest's
// file is screened as the guest is shown it, and a patient's name that only the patient index finds
// in it keeps the post that carries it from members, saying nothing of why: where PHI is kept from
// members, every post of a guest waits for a moderator, one with a stranger's file alike.
test('a guest\'s file that only the patient index flags waits for review, as every guest post there does', async () => {
  assert.equal((await admin.post('/api/v1/patients/import', { csv: 'mrn,first,last\nA7654321,Zanele,Okonkwo-Barros\n' })).status, 200);
  const guest = await createGuest(server, admin, 'vendor');
  const desk = await createSpace(users.ada, { kind: 'channel', name: 'vendor desk', visibility: 'private', join_policy: 'invite' });
  await assignNewVersion(officer, desk.id, 'internal-community', (doc) => ({
    ...doc, guests_allowed: true, phi: 'block', attachments: { ...doc.attachments, types: ['image/png', 'text/plain'] },
  }), 'vendor files');
  await addMember(users.ada, desk.id, guest.user.id);
  await addMember(users.ada, desk.id, users.bea.user.id);
  const named = Buffer.from('printer jams by Zanele Okonkwo-Barros\'s bed\n');

  const staff = await upload(users.ada, desk.id, 'printer.txt', named, 'text/plain');
  assert.equal(staff.status, 422, staff.text);
  assert.equal(staff.body.code, 'phi_blocked');
  assert.deepEqual(staff.body.findings.map((f) => f.type), ['name']);

  const up = await upload(guest, desk.id, 'printer.txt', named, 'text/plain');
  assert.equal(up.status, 201, up.text);
  assert.deepEqual(up.body.phi_types, []);
  assert.equal(up.body.withheld_types, undefined);
  const posted = await guest.post(`/api/v1/spaces/${desk.id}/messages`, { body: 'the printer again', attachment_ids: [up.body.id] });
  assert.equal(posted.status, 201, posted.text);
  assert.equal(posted.body.state, 'held');
  assert.equal(posted.body.hold_reason, 'pre_moderation');
  assert.deepEqual(posted.body.phi_types, []);
  const stranger = await upload(guest, desk.id, 'printer.txt', Buffer.from('printer jams by Wilhelmina Quarrendon\'s bed\n'), 'text/plain');
  assert.equal(stranger.status, 201, stranger.text);
  const alike = await guest.post(`/api/v1/spaces/${desk.id}/messages`, { body: 'the printer again', attachment_ids: [stranger.body.id] });
  assert.equal(alike.status, 201, alike.text);
  for (const key of ['state', 'hold_reason', 'phi_types', 'attachments']) {
    const strip = (v) => (key === 'attachments' ? v.map(({ id, sha256, size, ...rest }) => rest) : v);
    assert.deepEqual(strip(alike.body[key]), strip(posted.body[key]), key);
  }
  const page = await users.bea.get(`/api/v1/spaces/${desk.id}/messages`);
  assert.equal(page.status, 200, page.text);
  assert.ok(page.body.items.every((m) => m.id !== posted.body.id && m.id !== alike.body.id), 'members do not see them');
  const approved = await users.ada.post(`/api/v1/messages/${posted.body.id}/moderate`, { action: 'approve', reason: 'printer only' });
  assert.equal(approved.status, 422, approved.text);
  assert.equal(approved.body.code, 'phi_blocked');
  const approvedAlike = await users.ada.post(`/api/v1/messages/${alike.body.id}/moderate`, { action: 'approve', reason: 'printer only' });
  assert.equal(approvedAlike.status, 200, approvedAlike.text);
});
