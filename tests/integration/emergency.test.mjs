// Emergency access ("break the glass") against the real binary: a nurse outside a private clinical
// space opens it with a reason and her password, a compliance officer is told live on the event
// stream, every read through the grant is on the audit trail with its purpose, and the grant ends,
// is reviewed, and shows in a FHIR export as an emergency override.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, createSpace, addMember, createOfficer, PASSWORD } from './fixtures.mjs';

let server, admin, users, officer, ward;
const REASON = 'Rapid response call, covering bed 12 tonight';

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['owen', 'nia', 'pete']);
  officer = await createOfficer(server, admin);
  ward = await createSpace(users.owen, { name: 'Sealed ICU', kind: 'channel', template: 'clinical-team', visibility: 'private', join_policy: 'invite' });
  await addMember(users.owen, ward.id, users.pete.user.id);
  const res = await users.owen.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'Bed 12 on the new protocol' });
  assert.equal(res.status, 201, res.text);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

const open = (client, body) => client.post('/api/v1/emergency-access', { space_id: ward.id, reason: REASON, password: PASSWORD, ...body });

test('refusals are problem documents that open nothing', async () => {
  const wrong = await open(users.nia, { password: 'not-the-password-at-all' });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.code, 'invalid_credentials');
  assert.match(wrong.headers.get('content-type'), /application\/problem\+json/);
  const short = await open(users.nia, { reason: 'now' });
  assert.equal(short.status, 400);
  assert.equal(short.body.code, 'invalid_value');
  assert.equal(short.body.field, '/reason');
  const long = await open(users.nia, { minutes: 90 });
  assert.equal(long.status, 400);
  const unknownField = await open(users.nia, { scope: 'everything' });
  assert.equal(unknownField.status, 400);
  assert.equal(unknownField.body.code, 'unknown_field');
  const member = await open(users.pete);
  assert.equal(member.status, 409);
  assert.equal(member.body.code, 'already_readable');
  const mine = await users.nia.get('/api/v1/emergency-access');
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.body.items, []);
  assert.equal((await users.nia.get(`/api/v1/spaces/${ward.id}/messages`)).status, 404);
});

// The gauges /metrics gives for grants: running now, and over but not yet reviewed.
async function grantGauges() {
  const res = await server.client().get('/metrics');
  const read = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(res.text)?.[1]);
  return { active: read('rounds_emergency_grants_active'), unreviewed: read('rounds_emergency_grants_unreviewed') };
}

test('a nurse breaks the glass: the officer is told live, reads are on record, the grant ends and is reviewed', async () => {
  const alerts = await officer.openEvents();
  alerts.send({ type: 'resume', cursors: {} });
  await alerts.waitFor((f) => f.type === 'resumed');

  const found = await users.nia.get('/api/v1/emergency-access/spaces?q=Sealed');
  assert.equal(found.status, 200, found.text);
  assert.deepEqual(found.body.items.map((s) => s.id), [ward.id]);
  assert.equal(found.body.items[0].template, 'Clinical team (PHI allowed)');

  const opened = await open(users.nia, { minutes: 15 });
  assert.equal(opened.status, 201, opened.text);
  const grant = opened.body;
  assert.equal(grant.active, true);
  assert.equal(grant.purpose, 'BTG');
  assert.equal(grant.space.name, 'Sealed ICU');
  assert.ok(Math.abs(grant.expires_at - grant.started_at - 15 * 60_000) < 1000);
  assert.deepEqual(await grantGauges(), { active: 1, unreviewed: 0 });
  const alert = await alerts.waitFor((f) => f.type === 'user' && f.event === 'emergency.started');
  assert.equal(alert.data.id, grant.id);
  assert.equal(alert.data.user.username, 'nia');
  assert.equal(alert.data.reason, REASON);

  const space = await users.nia.get(`/api/v1/spaces/${ward.id}`);
  assert.equal(space.status, 200);
  assert.equal(space.body.emergency.grant_id, grant.id);
  const page = await users.nia.get(`/api/v1/spaces/${ward.id}/messages`);
  assert.equal(page.status, 200);
  assert.deepEqual(page.body.items.map((m) => m.body), ['Bed 12 on the new protocol']);
  // Read only.
  const post = await users.nia.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'was here' });
  assert.ok(post.status === 403 || post.status === 404, post.text);
  const join = await users.nia.post(`/api/v1/spaces/${ward.id}/join`);
  assert.ok(join.status === 403 || join.status === 404, join.text);

  const trail = await officer.get(`/api/v1/audit?actor_id=${users.nia.user.id}&action=message.list`);
  assert.equal(trail.status, 200, trail.text);
  assert.equal(trail.body.items.length, 1);
  assert.equal(trail.body.items[0].reason, 'break-the-glass');
  assert.equal(trail.body.items[0].details.grant_id, grant.id);
  assert.equal(trail.body.items[0].details.purpose, 'BTG');
  assert.deepEqual(trail.body.items[0].space, { id: ward.id, name: 'Sealed ICU', kind: 'channel' }, 'the space is named as it is now');

  // Only officers see everyone's grants and review them.
  assert.equal((await users.pete.get('/api/v1/emergency-access?scope=all')).status, 403);
  const active = await officer.get('/api/v1/emergency-access?scope=all&state=active');
  assert.deepEqual(active.body.items.map((g) => g.id), [grant.id]);
  const early = await officer.post(`/api/v1/emergency-access/${grant.id}/review`, { outcome: 'justified' });
  assert.equal(early.status, 409);
  assert.equal(early.body.code, 'grant_active');
  assert.equal((await users.pete.post(`/api/v1/emergency-access/${grant.id}/end`)).status, 404);

  const ended = await users.nia.post(`/api/v1/emergency-access/${grant.id}/end`);
  assert.equal(ended.status, 200, ended.text);
  assert.equal(ended.body.end, 'ended');
  const endAlert = await alerts.waitFor((f) => f.type === 'user' && f.event === 'emergency.ended');
  assert.equal(endAlert.data.id, grant.id);
  assert.equal((await users.nia.get(`/api/v1/spaces/${ward.id}/messages`)).status, 404);
  assert.equal((await users.nia.get(`/api/v1/spaces/${ward.id}`)).status, 404);
  assert.deepEqual(await grantGauges(), { active: 0, unreviewed: 1 });

  const unjustified = await officer.post(`/api/v1/emergency-access/${grant.id}/review`, { outcome: 'unjustified' });
  assert.equal(unjustified.status, 400);
  assert.equal(unjustified.body.field, '/note');
  const reviewed = await officer.post(`/api/v1/emergency-access/${grant.id}/review`, { outcome: 'justified', note: 'Rapid response confirmed' });
  assert.equal(reviewed.status, 200, reviewed.text);
  assert.equal(reviewed.body.review.outcome, 'justified');
  assert.equal(reviewed.body.review.by.id, officer.user.id);
  const unreviewed = await officer.get('/api/v1/emergency-access?scope=all&state=unreviewed');
  assert.deepEqual(unreviewed.body.items, []);
  assert.deepEqual(await grantGauges(), { active: 0, unreviewed: 0 });
  alerts.close();

  // The trail tells the story in order, and a FHIR export calls it an emergency override.
  const story = await officer.get('/api/v1/audit?action=emergency.');
  const actions = story.body.items.map((r) => `${r.action}:${r.outcome}`).reverse();
  assert.deepEqual(actions, ['emergency.start:failure', 'emergency.start:success', 'emergency.list:denied', 'emergency.stop:success', 'emergency.review:success']);
  const fhir = await officer.get('/api/v1/audit/export?format=fhir');
  assert.equal(fhir.status, 200);
  const events = fhir.body.entry.map((e) => e.resource);
  const started = events.find((e) => e.subtype.some((c) => c.code === 'emergency.start') && e.outcome === '0');
  assert.equal(started.type.code, '110113');
  assert.ok(started.subtype.some((c) => c.code === '110127'));
  assert.equal(started.purposeOfEvent[0].coding[0].code, 'BTG');
  const stopped = events.find((e) => e.subtype.some((c) => c.code === 'emergency.stop'));
  assert.ok(stopped.subtype.some((c) => c.code === '110138'));
});
