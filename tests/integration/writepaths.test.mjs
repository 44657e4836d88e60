// No write path bypasses policy or audit. Every way to change what Rounds stores is enumerated
// here — each mutating HTTP route the server registers (`rounds routes`), each WebSocket frame a
// client may send, and each CLI command (from the CLI's own help) — and each has a row saying how
// governance sees it:
//   screened: user text that becomes stored content; PHI in a blocking space is refused (422
//             phi_blocked) and nothing is stored;
//   audit:    the audit action the change writes, checked by doing it and reading the trail;
//   none:     why the path needs no record (it stores no content and grants no access).
// A new route, frame or command without a row fails the first tests; a row that no longer holds
// fails the others.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../lib/server.mjs';
import { startServer, createUsers, createSpace, addMember, assignNewVersion, PASSWORD } from './fixtures.mjs';
import { totp, currentStep, enrollTotp } from '../lib/totp.mjs';

// Reserved, synthetic identifiers: a 555-01xx phone, the 987-65-432x SSN block.
const PHI = 'Call the patient back at 617-555-0142, SSN 987-65-4321.';

let server, admin, officer, users, ids, clinical, forum;
let counter = 0;
const unique = (prefix) => `${prefix}-${Date.now() % 100000}-${++counter}`;

async function ok(res) {
  assert.ok(res.status >= 200 && res.status < 300, `${res.status} ${res.text}`);
  return res.body;
}
async function post(client, spaceId, body, extra = {}) {
  return ok(await client.post(`/api/v1/spaces/${spaceId}/messages`, { body, ...extra }));
}
async function newUser() {
  return ok(await admin.post('/api/v1/users', { username: unique('wp'), display_name: 'Write Path', password: PASSWORD }));
}
// A new account and a bearer client signed in as it.
async function signedInNewUser() {
  const u = await newUser();
  const c = server.client();
  await c.login(u.username, PASSWORD);
  return { u, c };
}
// A new session of the administrator that has taken up administration, and its id.
async function elevatedSession() {
  const c = server.client();
  await c.login('admin', 'integration-root-secret-2026');
  await c.elevate('integration-root-secret-2026');
  const sessions = await ok(await c.get('/api/v1/me/sessions'));
  const current = sessions.items.find((x) => x.current);
  assert.ok(current.admin_elevated_until > Date.now() - 60_000, 'the session list says it administers');
  return { c, sessionId: current.id };
}
async function moderationAction() {
  const target = await post(users.member, clinical.id, 'a post to act on');
  return ok(await users.owner.post(`/api/v1/messages/${target.id}/moderate`, { action: 'warn', reason: 'write paths' }));
}
async function blocked(res) {
  assert.equal(res.status, 422, res.text);
  assert.equal(res.body.code, 'phi_blocked');
  assert.ok(!res.text.includes('987-65-4321'), 'the refusal never echoes the PHI');
  return res.body;
}
const PNG = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(16, 3)]);
async function upload(client, spaceId, name) {
  return ok(await client.request('POST', `/api/v1/spaces/${spaceId}/attachments?name=${encodeURIComponent(name)}`, PNG,
    { raw: true, headers: { 'content-type': 'image/png' } }));
}
async function forumHasNoPhi() {
  const page = await ok(await users.owner.get(`/api/v1/spaces/${forum.id}/messages?limit=100`));
  assert.ok(!JSON.stringify(page).includes('987-65-4321'), 'nothing with the PHI was stored');
}

// A grant of emergency access for a new account to a private clinical space it is not in.
let sealed;
async function openGrant() {
  sealed ??= await createSpace(users.owner, { name: 'Sealed ward', template: 'clinical-team', visibility: 'private', join_policy: 'invite' });
  const { u, c } = await signedInNewUser();
  const grant = await ok(await c.post('/api/v1/emergency-access', {
    space_id: sealed.id, reason: 'Write paths: covering a deteriorating patient', password: PASSWORD, minutes: 5,
  }));
  return { u, c, grant };
}
// Each mutating route. `run` makes a successful change and returns the object id the audit record
// names (or undefined to check the action only); `phi` attempts the change with PHI in a blocking
// space and checks the refusal.
const ROUTES = {
  'POST /api/v1/auth/login': { audit: 'auth.login', run: async () => { await server.client().login('member', PASSWORD); } },
  'POST /api/v1/auth/logout': {
    audit: 'auth.logout',
    run: async () => { const c = server.client(); await c.login('member', PASSWORD); await ok(await c.post('/api/v1/auth/logout')); },
  },
  'POST /api/v1/auth/elevation': { audit: 'auth.elevate', run: async () => (await elevatedSession()).sessionId },
  'DELETE /api/v1/auth/elevation': {
    audit: 'auth.elevation_end',
    run: async () => { const { c, sessionId } = await elevatedSession(); await ok(await c.del('/api/v1/auth/elevation')); return sessionId; },
  },
  'PATCH /api/v1/me': { audit: 'user.update', run: async () => { await ok(await users.member.patch('/api/v1/me', { email: `${unique('m')}@example.org`, current_password: PASSWORD })); return ids.member; } },
  'DELETE /api/v1/me/sessions/{id}': {
    audit: 'auth.session_end',
    run: async () => {
      const { c } = await signedInNewUser();
      const other = server.client();
      await other.login(c.user.username, PASSWORD);
      const listed = await ok(await c.get('/api/v1/me/sessions'));
      const target = listed.items.find((s) => !s.current);
      await ok(await c.del(`/api/v1/me/sessions/${target.id}`));
      return target.id;
    },
  },
  'POST /api/v1/me/sessions/end-others': {
    audit: 'auth.sessions_end_others',
    run: async () => { const { u, c } = await signedInNewUser(); await ok(await c.post('/api/v1/me/sessions/end-others')); return u.id; },
  },
  'POST /api/v1/me/password': {
    audit: 'auth.password_change',
    run: async () => {
      const u = await newUser();
      const c = server.client();
      await c.login(u.username, PASSWORD);
      await ok(await c.post('/api/v1/me/password', { current_password: PASSWORD, new_password: 'another-long-password-2026' }));
      return u.id;
    },
  },
  'POST /api/v1/auth/mfa': {
    audit: 'auth.login',
    run: async () => {
      const { u, c } = await signedInNewUser();
      const { secret } = await enrollTotp(c, PASSWORD);
      const first = await server.client().post('/api/v1/auth/login', { username: u.username, password: PASSWORD, bearer: true });
      assert.equal(first.body.mfa_required, true);
      await ok(await server.client().post('/api/v1/auth/mfa', { mfa_token: first.body.mfa_token, code: totp(secret, currentStep() + 1), bearer: true }));
      return u.id;
    },
  },
  'POST /api/v1/me/mfa/totp/setup': {
    audit: 'auth.mfa_setup',
    run: async () => { const { u, c } = await signedInNewUser(); await ok(await c.post('/api/v1/me/mfa/totp/setup', { password: PASSWORD })); return u.id; },
  },
  'POST /api/v1/me/mfa/totp/confirm': {
    audit: 'auth.mfa_enable',
    run: async () => { const { u, c } = await signedInNewUser(); await enrollTotp(c, PASSWORD); return u.id; },
  },
  'POST /api/v1/me/mfa/totp/disable': {
    audit: 'auth.mfa_disable',
    run: async () => {
      const { u, c } = await signedInNewUser();
      const { secret } = await enrollTotp(c, PASSWORD);
      await ok(await c.post('/api/v1/me/mfa/totp/disable', { password: PASSWORD, code: totp(secret, currentStep() + 1) }));
      return u.id;
    },
  },
  'POST /api/v1/me/mfa/recovery-codes': {
    audit: 'auth.mfa_recovery_codes',
    run: async () => {
      const { u, c } = await signedInNewUser();
      const { secret } = await enrollTotp(c, PASSWORD);
      await ok(await c.post('/api/v1/me/mfa/recovery-codes', { password: PASSWORD, code: totp(secret, currentStep() + 1) }));
      return u.id;
    },
  },
  'POST /api/v1/users/{id}/sessions/end': {
    audit: 'user.sessions_end',
    run: async () => { const { u } = await signedInNewUser(); await ok(await admin.post(`/api/v1/users/${u.id}/sessions/end`)); return u.id; },
  },
  'POST /api/v1/users/{id}/mfa/reset': {
    audit: 'user.mfa_reset',
    run: async () => { const u = await newUser(); await ok(await admin.post(`/api/v1/users/${u.id}/mfa/reset`)); return u.id; },
  },
  'POST /api/v1/users': { audit: 'user.create', run: async () => (await newUser()).id },
  'PATCH /api/v1/users/{id}': { audit: 'user.update', run: async () => { const u = await newUser(); await ok(await admin.patch(`/api/v1/users/${u.id}`, { job_role: 'Charge Nurse' })); return u.id; } },
  'POST /api/v1/users/{id}/password': { audit: 'user.password_reset', run: async () => { const u = await newUser(); await ok(await admin.post(`/api/v1/users/${u.id}/password`, { new_password: 'a-reset-password-2026' })); return u.id; } },
  'POST /api/v1/departments': { audit: 'department.create', run: async () => (await ok(await admin.post('/api/v1/departments', { name: unique('Dept') }))).id },
  'POST /api/v1/spaces': {
    audit: 'space.create',
    run: async () => (await createSpace(users.owner, { name: unique('Space'), template: 'clinical-team' })).id,
    phi: async () => blocked(await users.owner.post('/api/v1/spaces', { kind: 'community', name: 'Forum 617-555-0142', topic: PHI, template: 'patient-forum' })),
  },
  'PATCH /api/v1/spaces/{id}': {
    none: 'name, topic and settings of the space, shown in its events; no access changes',
    phi: async () => blocked(await users.owner.patch(`/api/v1/spaces/${forum.id}`, { topic: PHI })),
  },
  'POST /api/v1/spaces/{id}/members': { audit: 'member.add', run: async () => { const u = await newUser(); await addMember(users.owner, clinical.id, u.id); return u.id; } },
  'PATCH /api/v1/spaces/{id}/members/{user_id}': {
    audit: 'member.role',
    run: async () => { const u = await newUser(); await addMember(users.owner, clinical.id, u.id); await ok(await users.owner.patch(`/api/v1/spaces/${clinical.id}/members/${u.id}`, { role: 'read_only' })); return u.id; },
  },
  'DELETE /api/v1/spaces/{id}/members/{user_id}': {
    audit: 'member.remove',
    run: async () => { const u = await newUser(); await addMember(users.owner, clinical.id, u.id); await ok(await users.owner.del(`/api/v1/spaces/${clinical.id}/members/${u.id}`)); return u.id; },
  },
  'POST /api/v1/spaces/{id}/join': {
    audit: 'member.join',
    run: async () => {
      // A PHI-bearing space its template lets anyone join (clinical-team's own rule is invitation).
      const open = await createSpace(users.owner, { name: unique('Open clinical'), template: 'clinical-team' });
      await assignNewVersion(officer, open.id, 'clinical-team', (d) => ({ ...d, joining: 'open' }));
      await ok(await users.other.post(`/api/v1/spaces/${open.id}/join`));
      return ids.other;
    },
  },
  'POST /api/v1/spaces/{id}/join-requests': {
    audit: 'member.join_request',
    run: async () => { const { u, c } = await signedInNewUser(); await ok(await c.post(`/api/v1/spaces/${forum.id}/join-requests`)); return u.id; },
  },
  'DELETE /api/v1/spaces/{id}/join-requests/{user_id}': {
    audit: 'member.join_withdraw',
    run: async () => {
      const { u, c } = await signedInNewUser();
      await ok(await c.post(`/api/v1/spaces/${forum.id}/join-requests`));
      await ok(await c.del(`/api/v1/spaces/${forum.id}/join-requests/${u.id}`));
      return u.id;
    },
  },
  'POST /api/v1/spaces/{id}/join-requests/{user_id}/approve': {
    audit: 'member.join_approve',
    run: async () => {
      const { u, c } = await signedInNewUser();
      await ok(await c.post(`/api/v1/spaces/${forum.id}/join-requests`));
      await ok(await users.owner.post(`/api/v1/spaces/${forum.id}/join-requests/${u.id}/approve`));
      return u.id;
    },
  },
  'POST /api/v1/spaces/{id}/join-requests/{user_id}/decline': {
    audit: 'member.join_decline',
    run: async () => {
      const { u, c } = await signedInNewUser();
      await ok(await c.post(`/api/v1/spaces/${forum.id}/join-requests`));
      await ok(await users.owner.post(`/api/v1/spaces/${forum.id}/join-requests/${u.id}/decline`));
      return u.id;
    },
  },
  'POST /api/v1/spaces/{id}/leave': {
    audit: 'member.leave',
    run: async () => { const u = await newUser(); await addMember(users.owner, clinical.id, u.id); const c = server.client(); await c.login(u.username, PASSWORD); await ok(await c.post(`/api/v1/spaces/${clinical.id}/leave`)); return u.id; },
  },
  'POST /api/v1/spaces/{id}/read': { none: 'the caller\'s own read marker' },
  'POST /api/v1/direct': { none: 'opens an empty conversation; what is said in it is audited as messages' },
  'POST /api/v1/spaces/{id}/messages': {
    audit: 'message.create',
    run: async () => (await post(users.member, clinical.id, 'Bed 4 is ready for the transfer')).id,
    phi: async () => {
      await blocked(await users.owner.post(`/api/v1/spaces/${forum.id}/messages`, { body: PHI }));
      await blocked(await users.owner.post(`/api/v1/spaces/${forum.id}/messages`, { body: 'Which day suits?', kind: 'poll', poll_options: ['Tuesday', PHI] }));
      await blocked(await users.owner.post(`/api/v1/spaces/${forum.id}/messages`, { body: 'Visiting hours', title: PHI, kind: 'discussion' }));
    },
  },
  'POST /api/v1/spaces/{id}/attachments': {
    audit: 'attachment.upload',
    run: async () => (await upload(users.member, clinical.id, 'ecg.png')).id,
    // The file name is screened like a body, and so is a text file's content. The forum takes no
    // files at all, so a space whose template blocks PHI and takes files is made for it.
    phi: async () => {
      const { items } = await ok(await officer.get('/api/v1/templates'));
      const base = items.filter((t) => t.key === 'internal-community').sort((a, b) => b.version - a.version)[0];
      const version = await ok(await officer.post('/api/v1/templates/internal-community/versions',
        { document: { ...base.document, version: base.version + 1, phi: 'block', attachments: { ...base.document.attachments, types: [...base.document.attachments.types, 'text/plain'] } } }));
      const strict = await createSpace(users.owner, { name: unique('strict files') });
      await ok(await officer.post(`/api/v1/spaces/${strict.id}/template`,
        { key: 'internal-community', version: version.version, reason: 'write paths' }));
      const res = await users.owner.request('POST', `/api/v1/spaces/${strict.id}/attachments?name=${encodeURIComponent(`${PHI}.png`)}`,
        PNG, { raw: true, headers: { 'content-type': 'image/png' } });
      await blocked(res);
      const csv = await users.owner.request('POST', `/api/v1/spaces/${strict.id}/attachments?name=callbacks.csv`,
        Buffer.from(`name,callback\nward clerk,${PHI}\n`), { raw: true, headers: { 'content-type': 'text/csv' } });
      const refusal = await blocked(csv);
      assert.ok(refusal.findings.some((f) => f.field === 'content'), JSON.stringify(refusal));
      const page = await ok(await users.owner.get(`/api/v1/spaces/${strict.id}/messages`));
      assert.equal(page.items.length, 0);
    },
  },
  'DELETE /api/v1/attachments/{id}': {
    audit: 'attachment.remove',
    run: async () => { const u = await upload(users.member, clinical.id, 'draft.png'); await ok(await users.member.del(`/api/v1/attachments/${u.id}`)); return u.id; },
  },
  'PATCH /api/v1/messages/{id}': {
    audit: 'message.edit',
    run: async () => { const m = await post(users.member, clinical.id, 'draft'); await ok(await users.member.patch(`/api/v1/messages/${m.id}`, { body: 'edited text' })); return m.id; },
    phi: async () => {
      const m = await post(users.owner, forum.id, 'Visiting hours change next week');
      await blocked(await users.owner.patch(`/api/v1/messages/${m.id}`, { body: PHI }));
    },
  },
  'DELETE /api/v1/messages/{id}': { audit: 'message.delete', run: async () => { const m = await post(users.member, clinical.id, 'to delete'); await ok(await users.member.del(`/api/v1/messages/${m.id}`)); return m.id; } },
  'PUT /api/v1/messages/{id}/reactions/{emoji}': { none: 'an emoji from a fixed set; no text, no access' },
  'DELETE /api/v1/messages/{id}/reactions/{emoji}': { none: 'removes the caller\'s own reaction' },
  'PUT /api/v1/messages/{id}/vote': { none: 'a vote on an idea: a count, no text' },
  'DELETE /api/v1/messages/{id}/vote': { none: 'withdraws the caller\'s vote' },
  'PUT /api/v1/messages/{id}/pin': { none: 'marks a message the space already shows; no text (the message it returns is a message.read in PHI-bearing spaces)' },
  'DELETE /api/v1/messages/{id}/pin': { none: 'unmarks a pinned message' },
  'POST /api/v1/messages/{id}/accept': { none: 'marks an existing reply as the answer; no text (the question it returns is a message.read in PHI-bearing spaces)' },
  'DELETE /api/v1/messages/{id}/accept': { none: 'clears the accepted answer' },
  'POST /api/v1/messages/{id}/poll-vote': { none: 'picks one of the poll\'s (screened) options' },
  'POST /api/v1/templates': { audit: 'template.create', run: async () => { await ok(await officer.post('/api/v1/templates', { document: { ...(await template('clinical-team')), key: unique('wp-tpl'), version: 1 } })); } },
  'POST /api/v1/templates/validate': { none: 'checks a document and stores nothing' },
  'POST /api/v1/templates/{key}/versions': {
    audit: 'template.version',
    run: async () => {
      const key = unique('wp-ver');
      await ok(await officer.post('/api/v1/templates/clinical-team/clone', { new_key: key }));
      await ok(await officer.post(`/api/v1/templates/${key}/versions`, { document: { ...(await template(key)), description: 'second version' } }));
    },
  },
  'POST /api/v1/templates/{key}/clone': { audit: 'template.create', run: async () => { await ok(await officer.post('/api/v1/templates/clinical-team/clone', { new_key: unique('wp-clone') })); } },
  'POST /api/v1/spaces/{id}/template': {
    audit: 'template.assign',
    run: async () => { const s = await createSpace(users.owner, { name: unique('Assign') }); await ok(await officer.post(`/api/v1/spaces/${s.id}/template`, { key: 'clinical-team', version: 1 })); return s.id; },
  },
  'POST /api/v1/spaces/{id}/template/dry-run': { audit: 'template.dry_run', run: async () => { await ok(await officer.post(`/api/v1/spaces/${clinical.id}/template/dry-run`, { key: 'patient-forum', version: 1 })); return clinical.id; } },
  'POST /api/v1/spaces/{id}/phi-check': { none: 'scans a draft for the composer and stores nothing' },
  'POST /api/v1/messages/{id}/report': { audit: 'moderation.report', run: async () => { const m = await post(users.member, clinical.id, 'report me'); await ok(await users.moderator.post(`/api/v1/messages/${m.id}/report`, { reason: 'write paths' })); return m.id; } },
  'POST /api/v1/messages/{id}/moderate': { audit: 'moderation.warn', run: async () => { await moderationAction(); } },
  'POST /api/v1/moderation/actions/{id}/appeal': { audit: 'moderation.appeal', run: async () => { const a = await moderationAction(); await ok(await users.member.post(`/api/v1/moderation/actions/${a.id}/appeal`, { text: 'please' })); return a.id; } },
  'POST /api/v1/moderation/actions/{id}/decide': {
    audit: 'moderation.appeal_decide',
    run: async () => {
      const a = await moderationAction();
      await ok(await users.member.post(`/api/v1/moderation/actions/${a.id}/appeal`, { text: 'please' }));
      await ok(await users.moderator.post(`/api/v1/moderation/actions/${a.id}/decide`, { outcome: 'upheld', reason: 'write paths' }));
      return a.id;
    },
  },
  'POST /api/v1/patients/import': { audit: 'patients.import', run: async () => { await ok(await admin.post('/api/v1/patients/import', { csv: 'mrn,first,last\nWP0001,Write,Path\n' })); } },
  'PUT /api/v1/patients/{mrn}': { audit: 'patients.upsert', run: async () => { await ok(await admin.put('/api/v1/patients/WP0002', { first: 'Write', last: 'Paths' })); } },
  'DELETE /api/v1/patients/{mrn}': { audit: 'patients.delete', run: async () => { await ok(await admin.put('/api/v1/patients/WP0003', { first: 'Gone', last: 'Soon' })); await ok(await admin.del('/api/v1/patients/WP0003')); } },
  'POST /api/v1/legal-holds': {
    audit: 'legal_hold.create',
    run: async () => (ids.hold = (await ok(await officer.post('/api/v1/legal-holds', { name: unique('hold'), reason: 'write paths', space_ids: [clinical.id] }))).id),
  },
  'POST /api/v1/legal-holds/{id}/release': {
    audit: 'legal_hold.release',
    run: async () => { const h = await ok(await officer.post('/api/v1/legal-holds', { name: unique('hold'), reason: 'write paths', space_ids: [clinical.id] })); await ok(await officer.post(`/api/v1/legal-holds/${h.id}/release`, { password: PASSWORD })); return h.id; },
  },
  'POST /api/v1/retention/run': { audit: 'retention.run', run: async () => { await ok(await admin.post('/api/v1/retention/run')); } },
  'POST /api/v1/exports': { audit: 'ediscovery.export', run: async () => { ids.export = (await ok(await officer.post('/api/v1/exports', { space_ids: [clinical.id] }))).export_id; } },
  'DELETE /api/v1/exports/{id}': { audit: 'ediscovery.remove', run: async () => {
    const made = await ok(await officer.post('/api/v1/exports', { space_ids: [clinical.id] }));
    await ok(await officer.request('DELETE', `/api/v1/exports/${made.export_id}`, { password: PASSWORD }));
  } },
  'POST /api/v1/audit/verify': { audit: 'audit.verify', run: async () => { await ok(await officer.post('/api/v1/audit/verify')); } },
  'POST /api/v1/audit/signing-key': { audit: 'audit.key_changed', run: async () => { await ok(await officer.post('/api/v1/audit/signing-key', { password: PASSWORD, reason: 'write paths' })); } },
  // The grant stays open (5 minutes) for `rounds emergency revoke` below.
  'POST /api/v1/emergency-access': { audit: 'emergency.start', run: async () => { const { grant } = await openGrant(); ids.grant = grant.id; return grant.space.id; } },
  'POST /api/v1/emergency-access/{id}/end': {
    audit: 'emergency.stop',
    run: async () => { const { c, grant } = await openGrant(); await ok(await c.post(`/api/v1/emergency-access/${grant.id}/end`)); return grant.space.id; },
  },
  'POST /api/v1/emergency-access/{id}/review': {
    audit: 'emergency.review',
    run: async () => {
      const { c, grant } = await openGrant();
      await ok(await c.post(`/api/v1/emergency-access/${grant.id}/end`));
      await ok(await officer.post(`/api/v1/emergency-access/${grant.id}/review`, { outcome: 'justified', note: 'write paths' }));
      return grant.space.id;
    },
  },
};

// Each frame a client may send on the WebSocket.
const FRAMES = {
  ping: { none: 'answered with pong; nothing stored or read' },
  typing: { none: 'relayed to members, never stored; carries no text' },
  resume: { audit: 'message.replay' },
};

// Each CLI command (leaf of the command tree). Writes are checked against the data folder after
// the server stops.
const CLI = {
  serve: { none: 'runs the server: its writes are the routes above' },
  'admin user add': { audit: 'user.create', args: () => ['admin', 'user', 'add', '--username', unique('cli-user'), '--display-name', 'CLI User', '--password-stdin'], input: 'a-cli-password-2026\n' },
  'admin user list': { none: 'reads accounts' },
  'admin user disable': { audit: 'user.disable', args: () => ['admin', 'user', 'disable', 'other'] },
  'admin user enable': { audit: 'user.enable', args: () => ['admin', 'user', 'enable', 'other'] },
  'admin user reset-password': { audit: 'user.password_reset', args: () => ['admin', 'user', 'reset-password', 'other', '--password-stdin'], input: 'a-cli-reset-password-2026\n' },
  'admin user reset-mfa': { audit: 'user.mfa_reset', args: () => ['admin', 'user', 'reset-mfa', 'other'] },
  'admin department add': { audit: 'department.create', args: () => ['admin', 'department', 'add', unique('CLI Dept')] },
  'admin department list': { none: 'reads departments' },
  'admin import-users': { audit: 'user.import', file: `username,display_name,email,job_role,department\n${'cli-imported'},CLI Imported,cli@example.org,Nurse,CLI Ward\n`, args: (f) => ['admin', 'import-users', f] },
  'admin import-patients': { audit: 'patients.import', file: 'mrn,first,last\nCLI0001,Cli,Patient\n', args: (f) => ['admin', 'import-patients', f] },
  'admin template validate': { none: 'checks a document file and stores nothing' },
  'admin database encrypt': { audit: 'database.encrypt', args: () => ['admin', 'database', 'encrypt'] },
  'admin database rekey': { audit: 'database.rekey', args: () => ['admin', 'database', 'rekey'] },
  'admin database check': { none: 'reads every page and checks the structure, read-only' },
  backup: { audit: 'database.backup', args: (f) => ['backup', '--to', f] },
  'audit verify': { none: 'checks the chain read-only; it must not write to what it verifies' },
  'audit export': { audit: 'audit.export', args: (f) => ['audit', 'export', '--format', 'ndjson', '--out', f] },
  'audit prove': { audit: 'audit.proof', args: () => ['audit', 'prove', '--seq', '1'] },
  'audit check-proof': { none: 'checks a proof document with the public key; opens no data folder' },
  'audit rotate-key': { audit: 'audit.key_changed', args: () => ['audit', 'rotate-key'] },
  'hold create': { audit: 'legal_hold.create', args: () => ['hold', 'create', '--name', unique('cli-hold'), '--reason', 'cli', '--space', String(clinical.id)] },
  'hold list': { none: 'reads holds' },
  'hold release': { audit: 'legal_hold.release', args: () => ['hold', 'release', String(ids.hold)] },
  'retention run': { audit: 'retention.run', args: () => ['retention', 'run'] },
  'emergency list': { none: 'reads grants (a compliance view; the command line acts as the system)' },
  'emergency revoke': { audit: 'emergency.stop', args: () => ['emergency', 'revoke', String(ids.grant)] },
  'ediscovery export': { audit: 'ediscovery.export', args: (f) => ['ediscovery', 'export', '--out', f, '--space', String(clinical.id)] },
  'ediscovery list': { audit: 'ediscovery.list', args: () => ['ediscovery', 'list'] },
  'ediscovery archive': { audit: 'ediscovery.download', args: (f) => ['ediscovery', 'archive', '--id', ids.export, '--out', `${f}.zip`] },
  'ediscovery remove': { audit: 'ediscovery.remove', args: () => ['ediscovery', 'remove', '--id', ids.export] },
  'bench phi': { none: 'measures the PHI scanner on a synthetic corpus; opens no data folder' },
  routes: { none: 'prints the route table' },
  version: { none: 'prints the version' },
};

// The newest version of a template's document, without its key and version.
async function template(key) {
  const listed = await ok(await officer.get('/api/v1/templates'));
  const newest = listed.items.filter((t) => t.key === key).sort((a, b) => b.version - a.version)[0];
  const { key: _key, version: _version, ...rest } = newest.document;
  return rest;
}

async function newestSeq() {
  const res = await ok(await officer.get('/api/v1/audit?limit=1'));
  return res.items[0]?.seq ?? 0;
}
async function recordsAfter(seq, action) {
  const res = await ok(await officer.get(`/api/v1/audit?action=${encodeURIComponent(action)}&limit=200`));
  return res.items.filter((r) => r.seq > seq && r.action === action);  // the filter is a prefix
}

// The leaves of the CLI's command tree, from its own help.
function cliLeaves(prefix = []) {
  const help = runCli([...prefix, '--help']);
  const lines = help.stdout.split('\n');
  const at = lines.findIndex((l) => /^Subcommands:/.test(l));
  if (at < 0) return [prefix.join(' ')];
  const names = [];
  for (const line of lines.slice(at + 1)) {
    const m = /^ {2}(\S+)\s/.exec(line);
    if (m) names.push(m[1]);
    else if (line.trim() === '') break;
  }
  return names.flatMap((n) => cliLeaves([...prefix, n]));
}

test.before(async () => {
  // A plain database (as one made before encryption at rest), so that `admin database encrypt` has
  // something to encrypt below; the commands after it run on the encrypted database.
  ({ server, admin } = await startServer({ env: { ROUNDS_DATABASE_ENCRYPTION: 'false' } }));
  users = await createUsers(server, admin, ['owner', 'moderator', 'member', 'other']);
  ids = Object.fromEntries(Object.entries(users).map(([k, c]) => [k, c.user.id]));
  await ok(await admin.post('/api/v1/users', { username: 'officer', display_name: 'Officer', password: PASSWORD, is_compliance: true }));
  officer = server.client();
  await officer.login('officer', PASSWORD);
  clinical = await createSpace(users.owner, { name: 'Ward 4 clinical', template: 'clinical-team' });
  await addMember(users.owner, clinical.id, ids.moderator, 'moderator');
  await addMember(users.owner, clinical.id, ids.member);
  forum = await createSpace(users.owner, { name: 'Heart health forum', template: 'patient-forum' });
  await addMember(users.owner, forum.id, ids.member);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('every mutating route, WebSocket frame and CLI command has a row', () => {
  const routes = runCli(['routes']);
  assert.equal(routes.status, 0, routes.stderr);
  const mutating = routes.stdout.trim().split('\n').filter((r) => !r.startsWith('GET '));
  assert.deepEqual(mutating.filter((r) => !ROUTES[r]), [], 'add these write routes to the table');
  assert.deepEqual(Object.keys(ROUTES).filter((r) => !mutating.includes(r)), [], 'stale rows');
  const leaves = cliLeaves();
  assert.ok(leaves.length >= 15, `the CLI tree was read: ${leaves.join(', ')}`);
  assert.deepEqual(leaves.filter((c) => !CLI[c]), [], 'add these CLI commands to the table');
  assert.deepEqual(Object.keys(CLI).filter((c) => !leaves.includes(c)), [], 'stale CLI rows');
  for (const [name, row] of [...Object.entries(ROUTES), ...Object.entries(FRAMES), ...Object.entries(CLI)]) {
    assert.ok(row.audit || row.none, `${name}: audited, or a reason why not`);
  }
});

test('user text that becomes stored content is screened on every path', async () => {
  const screened = Object.entries(ROUTES).filter(([, row]) => row.phi);
  assert.deepEqual(screened.map(([r]) => r).sort(), [
    'PATCH /api/v1/messages/{id}', 'PATCH /api/v1/spaces/{id}', 'POST /api/v1/spaces', 'POST /api/v1/spaces/{id}/attachments',
    'POST /api/v1/spaces/{id}/messages',
  ]);
  const before = await newestSeq();
  for (const [, row] of screened) await row.phi();
  await forumHasNoPhi();
  // Refused posts and edits are on the trail, with types and counts only.
  const refusals = await recordsAfter(before, 'message.phi_refuse');
  assert.ok(refusals.length >= 4, `${refusals.length} refusals recorded`);
  assert.ok(refusals.every((r) => r.outcome === 'denied' && !JSON.stringify(r).includes('555-0142')));
});

test('every audited route writes its record, naming the object', async () => {
  const failures = [];
  for (const [route, row] of Object.entries(ROUTES)) {
    if (!row.audit) continue;
    const before = await newestSeq();
    const objectId = await row.run();
    const records = await recordsAfter(before, row.audit);
    if (records.length === 0) failures.push(`${route}: no ${row.audit} record`);
    else if (objectId !== undefined && !records.some((r) => r.object_id === String(objectId))) {
      failures.push(`${route}: ${row.audit} records name ${records.map((r) => r.object_id)}, not ${objectId}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('a resume that replays a PHI-bearing space is audited; typing and ping store nothing', async () => {
  const posted = await post(users.member, clinical.id, 'replay me');
  const before = await newestSeq();
  const stream = await users.moderator.openEvents();
  stream.send({ type: 'resume', cursors: { [clinical.id]: posted.seq - 1 } });
  await stream.waitFor((f) => f.type === 'resumed');
  assert.ok(stream.events(clinical.id).some((f) => f.seq === posted.seq), 'the replay delivered the post');
  const replayed = await recordsAfter(before, 'message.replay');
  assert.ok(replayed.some((r) => r.object_id === String(clinical.id) && r.actor_id === ids.moderator && r.details.count >= 1));
  const quiet = await newestSeq();
  stream.send({ type: 'typing', space_id: clinical.id });
  stream.send({ type: 'ping' });
  await stream.waitFor((f) => f.type === 'pong');
  await stream.close();
  const after = await ok(await officer.get('/api/v1/audit?limit=20'));
  assert.deepEqual(after.items.filter((r) => r.seq > quiet && r.action !== 'audit.search').map((r) => r.action), []);
});

test('every writing CLI command leaves its record on the trail', async () => {
  await server.stop();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rounds-writepaths-'));
  try {
    const failures = [];
    for (const [name, row] of Object.entries(CLI)) {
      if (!row.audit) continue;
      const target = path.join(dir, name.replaceAll(' ', '-'));
      if (row.file) writeFileSync(target, row.file);
      const result = runCli(row.args(target), { dataDir: server.dataDir, input: row.input });
      if (result.status !== 0) failures.push(`${name}: exit ${result.status}: ${result.stderr}`);
    }
    const out = path.join(dir, 'trail.ndjson');
    const exported = runCli(['audit', 'export', '--format', 'ndjson', '--out', out], { dataDir: server.dataDir });
    assert.equal(exported.status, 0, exported.stderr);
    // One FHIR AuditEvent per line; our action is the subtype coded in urn:rounds:audit-action.
    const actions = new Set(readFileSync(out, 'utf8').trim().split('\n').map((l) =>
      JSON.parse(l).subtype.find((c) => c.system === 'urn:rounds:audit-action').code));
    for (const [name, row] of Object.entries(CLI)) {
      if (row.audit && !actions.has(row.audit)) failures.push(`${name}: no ${row.audit} record`);
    }
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.start();
  }
});
