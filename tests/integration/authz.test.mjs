// The authorization matrix: every route the server registers (from `rounds routes`) has a row,
// and every row states the expected outcome for every kind of caller. A new route without a
// row fails this test. Outcomes: 'ok' (2xx), 'deny' (403 or 404 — a private space's existence is
// not revealed), 'auth' (401), 'bad' (400: allowed past authorization, refused on content).
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../lib/server.mjs';
import { startServer, createUsers, createSpace, addMember, PASSWORD } from './fixtures.mjs';

// 'admin' is an administrator whose session has taken up administration (POST
// /api/v1/auth/elevation); 'resting_admin' is one whose session has not, and is staff like any other.
const ROLES = ['signed_out', 'disabled', 'non_member', 'read_only', 'member', 'moderator', 'owner', 'admin', 'resting_admin'];
const ROOT_PASSWORD = 'integration-root-secret-2026';
// A row names resting_admin only where it differs from non_member (filled in below the matrix).
const ALL = (outcome) => Object.fromEntries(ROLES.filter((r) => r !== 'resting_admin').map((r) => [r, outcome]));
const SIGNED_IN = (outcome) => ({ ...ALL(outcome), signed_out: 'auth', disabled: 'auth' });
// Inside the private space: members read, non-members are denied; admins read anything.
const READ = { ...SIGNED_IN('ok'), non_member: 'deny' };
const WRITE = { ...SIGNED_IN('ok'), non_member: 'deny', read_only: 'deny', admin: 'deny' };
const MODERATE = { ...WRITE, member: 'deny' };
const OWN = { ...MODERATE, moderator: 'deny', admin: 'ok' };
const ADMIN_ONLY = { ...SIGNED_IN('deny'), admin: 'ok' };

let server, admin, users, space, ids;

// Fresh objects for rows whose requests change state.
async function freshMessage(author = 'member', extra = {}) {
  const res = await users[author].post(`/api/v1/spaces/${space.id}/messages`, { body: 'matrix target', ...extra });
  assert.ok(res.status === 201, res.text);
  return res.body;
}

// A file the server takes for a PNG, sent as the raw body of an upload.
const PNG = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(32, 1)]);
const RAW_PNG = { raw: true, headers: { 'content-type': 'image/png' } };

// A fresh upload of the member's, not posted.
async function freshUpload() {
  const res = await users.member.request('POST', `/api/v1/spaces/${space.id}/attachments?name=f.png`, PNG, RAW_PNG);
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

const MATRIX = {
  'GET /healthz': { expect: ALL('ok'), req: () => ['GET', '/healthz'] },
  'GET /readyz': { expect: ALL('ok'), req: () => ['GET', '/readyz'] },
  'GET /metrics': { expect: ALL('ok'), req: () => ['GET', '/metrics'] },
  'POST /api/v1/auth/login': { expect: ALL('auth'), req: () => ['POST', '/api/v1/auth/login', { username: 'nobody', password: 'not-a-real-password' }] },
  // Administration: administrators only, with the password again; ending it is anyone's no-op.
  'POST /api/v1/auth/elevation': {
    expect: { ...SIGNED_IN('deny'), admin: 'ok', resting_admin: 'ok' }, fresh_session: true,
    req: (role) => ['POST', '/api/v1/auth/elevation', { password: role === 'admin' ? ROOT_PASSWORD : PASSWORD }],
  },
  'DELETE /api/v1/auth/elevation': { expect: SIGNED_IN('ok'), fresh_session: true, req: () => ['DELETE', '/api/v1/auth/elevation'] },
  'POST /api/v1/auth/mfa': { expect: ALL('auth'), req: () => ['POST', '/api/v1/auth/mfa', { mfa_token: 'm1.1.1.nonce.mac', code: '123456' }] },
  'POST /api/v1/me/mfa/totp/setup': { expect: SIGNED_IN('bad'), req: () => ['POST', '/api/v1/me/mfa/totp/setup', {}] },
  'POST /api/v1/me/mfa/totp/confirm': { expect: SIGNED_IN('bad'), req: () => ['POST', '/api/v1/me/mfa/totp/confirm', {}] },
  'POST /api/v1/me/mfa/totp/disable': { expect: SIGNED_IN('bad'), req: () => ['POST', '/api/v1/me/mfa/totp/disable', {}] },
  'POST /api/v1/me/mfa/recovery-codes': { expect: SIGNED_IN('bad'), req: () => ['POST', '/api/v1/me/mfa/recovery-codes', {}] },
  // Aimed at the disabled account: its sessions are over already, so the other rows keep theirs.
  'POST /api/v1/users/{id}/sessions/end': { expect: ADMIN_ONLY, req: () => ['POST', `/api/v1/users/${ids.disabled}/sessions/end`] },
  'POST /api/v1/users/{id}/mfa/reset': { expect: ADMIN_ONLY, req: () => ['POST', `/api/v1/users/${ids.disabled}/mfa/reset`] },
  'POST /api/v1/auth/logout': { expect: SIGNED_IN('ok'), fresh_session: true, req: () => ['POST', '/api/v1/auth/logout'] },
  'GET /api/v1/me': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/me'] },
  'PATCH /api/v1/me': { expect: SIGNED_IN('ok'), req: () => ['PATCH', '/api/v1/me', { display_name: 'Matrix Name' }] },
  'GET /api/v1/me/sessions': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/me/sessions'] },
  // An id that is nobody's: found for no caller, whoever asks.
  'DELETE /api/v1/me/sessions/{id}': { expect: { ...SIGNED_IN('deny') }, req: () => ['DELETE', '/api/v1/me/sessions/999999'] },
  // From each caller's own (only long-lived) session: what it ends are the rows' fresh sessions.
  'POST /api/v1/me/sessions/end-others': { expect: SIGNED_IN('ok'), req: () => ['POST', '/api/v1/me/sessions/end-others'] },
  'POST /api/v1/me/password': { expect: SIGNED_IN('bad'), req: (role) => ['POST', '/api/v1/me/password', { current_password: role === 'admin' ? ROOT_PASSWORD : PASSWORD, new_password: 'short' }] },
  'GET /api/v1/me/mentions': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/me/mentions'] },
  'GET /api/v1/users': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/users'] },
  'POST /api/v1/users': { expect: { ...ADMIN_ONLY, admin: 'bad' }, req: () => ['POST', '/api/v1/users', { username: 'Bad Name', display_name: 'x', password: 'a-long-enough-password' }] },
  'GET /api/v1/users/{id}': { expect: SIGNED_IN('ok'), req: () => ['GET', `/api/v1/users/${ids.member}`] },
  'PATCH /api/v1/users/{id}': { expect: ADMIN_ONLY, req: () => ['PATCH', `/api/v1/users/${ids.member}`, { job_role: 'Registered Nurse' }] },
  'POST /api/v1/users/{id}/password': { expect: { ...ADMIN_ONLY, admin: 'bad' }, req: () => ['POST', `/api/v1/users/${ids.member}/password`, { new_password: 'short' }] },
  'GET /api/v1/departments': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/departments'] },
  'POST /api/v1/departments': { expect: { ...ADMIN_ONLY, admin: 'bad' }, req: () => ['POST', '/api/v1/departments', { name: '' }] },
  'GET /api/v1/spaces': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/spaces'] },
  'POST /api/v1/spaces': { expect: { ...SIGNED_IN('bad') }, req: () => ['POST', '/api/v1/spaces', { name: '' }] },
  'GET /api/v1/spaces/{id}': { expect: READ, req: () => ['GET', `/api/v1/spaces/${space.id}`] },
  'PATCH /api/v1/spaces/{id}': { expect: OWN, req: () => ['PATCH', `/api/v1/spaces/${space.id}`, { topic: 'Matrix topic' }] },
  'GET /api/v1/spaces/{id}/members': { expect: READ, req: () => ['GET', `/api/v1/spaces/${space.id}/members`] },
  'POST /api/v1/spaces/{id}/members': {
    expect: { ...MODERATE, admin: 'ok' },
    req: async (role) => {
      const res = await admin.post('/api/v1/users', { username: `cand-${role}-${Date.now() % 100000}`, display_name: 'Candidate', password: PASSWORD });
      return ['POST', `/api/v1/spaces/${space.id}/members`, { user_id: res.body.id }];
    },
  },
  'PATCH /api/v1/spaces/{id}/members/{user_id}': { expect: OWN, req: () => ['PATCH', `/api/v1/spaces/${space.id}/members/${ids.read_only}`, { role: 'read_only' }] },
  'DELETE /api/v1/spaces/{id}/members/{user_id}': {
    expect: { ...MODERATE, admin: 'ok' },
    req: async () => {
      const res = await admin.post('/api/v1/users', { username: `gone-${Math.floor(Math.random() * 1e9)}`, display_name: 'Gone', password: PASSWORD });
      await addMember(users.owner, space.id, res.body.id);
      return ['DELETE', `/api/v1/spaces/${space.id}/members/${res.body.id}`];
    },
  },
  // Joining a private space is refused to everyone; members get a conflict-free "already" answer.
  // Joining on request: the matrix's space is private, so no one asks to join it (members are told
  // they already are); its moderators, owners and administrators may list requests; no request can
  // be pending to withdraw or decide, and another's is never withdrawn.
  'POST /api/v1/spaces/{id}/join-requests': { expect: { ...SIGNED_IN('deny'), read_only: 'conflict', member: 'conflict', moderator: 'conflict', owner: 'conflict' }, req: () => ['POST', `/api/v1/spaces/${space.id}/join-requests`] },
  'GET /api/v1/spaces/{id}/join-requests': { expect: { ...MODERATE, admin: 'ok' }, req: () => ['GET', `/api/v1/spaces/${space.id}/join-requests`] },
  'DELETE /api/v1/spaces/{id}/join-requests/{user_id}': { expect: SIGNED_IN('deny'), req: () => ['DELETE', `/api/v1/spaces/${space.id}/join-requests/${ids.owner}`] },
  'POST /api/v1/spaces/{id}/join-requests/{user_id}/approve': { expect: SIGNED_IN('deny'), req: () => ['POST', `/api/v1/spaces/${space.id}/join-requests/${ids.non_member}/approve`] },
  'POST /api/v1/spaces/{id}/join-requests/{user_id}/decline': { expect: SIGNED_IN('deny'), req: () => ['POST', `/api/v1/spaces/${space.id}/join-requests/${ids.non_member}/decline`] },
  'POST /api/v1/spaces/{id}/join': { expect: { ...SIGNED_IN('deny'), read_only: 'conflict', member: 'conflict', moderator: 'conflict', owner: 'conflict' }, req: () => ['POST', `/api/v1/spaces/${space.id}/join`] },
  'POST /api/v1/spaces/{id}/leave': { expect: { ...SIGNED_IN('deny'), read_only: 'ok', member: 'ok', moderator: 'ok', owner: 'conflict' }, rejoin: true, req: () => ['POST', `/api/v1/spaces/${space.id}/leave`] },
  'POST /api/v1/spaces/{id}/read': { expect: { ...READ, admin: 'deny' }, req: () => ['POST', `/api/v1/spaces/${space.id}/read`, { seq: 1 }] },
  // Owners and moderators (the matrix's space runs a template that allows exports).
  'GET /api/v1/spaces/{id}/export': { expect: MODERATE, req: () => ['GET', `/api/v1/spaces/${space.id}/export?format=json`] },
  'GET /api/v1/spaces/{id}/pins': { expect: READ, req: () => ['GET', `/api/v1/spaces/${space.id}/pins`] },
  'POST /api/v1/direct': { expect: SIGNED_IN('ok'), req: (role) => ['POST', '/api/v1/direct', { user_ids: [role === 'owner' ? ids.member : ids.owner] }] },
  'POST /api/v1/spaces/{id}/attachments': { expect: WRITE, req: () => ['POST', `/api/v1/spaces/${space.id}/attachments?name=m.png`, PNG, RAW_PNG] },
  'GET /api/v1/attachments/{id}': { expect: READ, req: () => ['GET', `/api/v1/attachments/${ids.attachment}`] },
  // An upload not yet posted is its uploader's alone to take back.
  'DELETE /api/v1/attachments/{id}': { expect: { ...SIGNED_IN('deny'), member: 'ok' }, req: async () => ['DELETE', `/api/v1/attachments/${await freshUpload()}`] },
  'GET /api/v1/spaces/{id}/messages': { expect: READ, req: () => ['GET', `/api/v1/spaces/${space.id}/messages`] },
  'POST /api/v1/spaces/{id}/messages': { expect: WRITE, req: () => ['POST', `/api/v1/spaces/${space.id}/messages`, { body: 'matrix post' }] },
  'GET /api/v1/messages/{id}': { expect: READ, req: () => ['GET', `/api/v1/messages/${ids.message}`] },
  'PATCH /api/v1/messages/{id}': { expect: { ...SIGNED_IN('deny'), member: 'ok' }, req: async () => ['PATCH', `/api/v1/messages/${(await freshMessage('member')).id}`, { body: 'edited' }] },
  'DELETE /api/v1/messages/{id}': { expect: { ...SIGNED_IN('deny'), member: 'ok' }, req: async () => ['DELETE', `/api/v1/messages/${(await freshMessage('member')).id}`] },
  'GET /api/v1/messages/{id}/history': { expect: { ...MODERATE, member: 'ok', admin: 'ok' }, req: () => ['GET', `/api/v1/messages/${ids.message}/history`] },
  'GET /api/v1/messages/{id}/thread': { expect: READ, req: () => ['GET', `/api/v1/messages/${ids.message}/thread`] },
  'PUT /api/v1/messages/{id}/reactions/{emoji}': { expect: WRITE, req: () => ['PUT', `/api/v1/messages/${ids.message}/reactions/%F0%9F%91%8D`] },
  'DELETE /api/v1/messages/{id}/reactions/{emoji}': { expect: WRITE, req: () => ['DELETE', `/api/v1/messages/${ids.message}/reactions/%F0%9F%91%8D`] },
  'PUT /api/v1/messages/{id}/vote': { expect: WRITE, req: () => ['PUT', `/api/v1/messages/${ids.idea}/vote`] },
  'DELETE /api/v1/messages/{id}/vote': { expect: WRITE, req: () => ['DELETE', `/api/v1/messages/${ids.idea}/vote`] },
  'POST /api/v1/messages/{id}/poll-vote': { expect: WRITE, req: () => ['POST', `/api/v1/messages/${ids.poll}/poll-vote`, { option: 0 }] },
  'PUT /api/v1/messages/{id}/pin': { expect: MODERATE, req: () => ['PUT', `/api/v1/messages/${ids.message}/pin`] },
  'DELETE /api/v1/messages/{id}/pin': { expect: MODERATE, req: () => ['DELETE', `/api/v1/messages/${ids.message}/pin`] },
  // The question's author (member) or a moderator may accept.
  'POST /api/v1/messages/{id}/accept': { expect: { ...MODERATE, member: 'ok' }, req: () => ['POST', `/api/v1/messages/${ids.answer}/accept`] },
  'DELETE /api/v1/messages/{id}/accept': { expect: { ...MODERATE, member: 'ok' }, req: () => ['DELETE', `/api/v1/messages/${ids.answer}/accept`] },
  'GET /api/v1/search': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/search?q=matrix'] },
  'GET /api/v1/events': { expect: { ...SIGNED_IN('upgrade') }, req: () => ['GET', '/api/v1/events'] },

  // Governance. Compliance officers (none among these callers) own templates, the audit trail,
  // holds and exports; space moderators own their queue; administrators keep the patient index.
  'GET /api/v1/templates': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/templates'] },
  'POST /api/v1/templates': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/templates', { document: { key: 'matrix' } }] },
  'POST /api/v1/templates/validate': { expect: SIGNED_IN('ok'), req: () => ['POST', '/api/v1/templates/validate', { document: { key: 'matrix' } }] },
  'GET /api/v1/templates/{key}/versions/{version}': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/templates/clinical-team/versions/1'] },
  'POST /api/v1/templates/{key}/versions': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/templates/clinical-team/versions', { document: {} }] },
  'POST /api/v1/templates/{key}/clone': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/templates/clinical-team/clone', { new_key: 'matrix-clone' }] },
  'GET /api/v1/templates/{key}/diff': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/templates/clinical-team/diff?from=1&to=1'] },
  'POST /api/v1/spaces/{id}/template': { expect: SIGNED_IN('deny'), req: () => ['POST', `/api/v1/spaces/${space.id}/template`, { key: 'clinical-team', version: 1 }] },
  'POST /api/v1/spaces/{id}/template/dry-run': { expect: SIGNED_IN('deny'), req: () => ['POST', `/api/v1/spaces/${space.id}/template/dry-run`, { key: 'clinical-team', version: 1 }] },
  'POST /api/v1/spaces/{id}/phi-check': { expect: READ, req: () => ['POST', `/api/v1/spaces/${space.id}/phi-check`, { body: 'bed 4 at noon' }] },
  // The moderator wrote the answer: reporting your own message is refused on content.
  'POST /api/v1/messages/{id}/report': { expect: { ...READ, moderator: 'bad' }, req: () => ['POST', `/api/v1/messages/${ids.answer}/report`, { reason: 'matrix' }] },
  'GET /api/v1/moderation/queue': { expect: { ...SIGNED_IN('deny'), moderator: 'ok', owner: 'ok' }, req: () => ['GET', `/api/v1/moderation/queue?space_id=${space.id}`] },
  'POST /api/v1/messages/{id}/moderate': { expect: { ...SIGNED_IN('deny'), moderator: 'ok', owner: 'ok' }, req: async () => ['POST', `/api/v1/messages/${(await freshMessage('member')).id}/moderate`, { action: 'warn', reason: 'matrix' }] },
  'GET /api/v1/moderation/actions': { expect: { ...SIGNED_IN('deny'), moderator: 'ok', owner: 'ok' }, req: () => ['GET', `/api/v1/moderation/actions?space_id=${space.id}`] },
  'GET /api/v1/me/moderation': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/me/moderation'] },
  // Only the author acted on may appeal (once).
  'POST /api/v1/moderation/actions/{id}/appeal': { expect: { ...SIGNED_IN('deny'), member: 'ok' }, req: () => ['POST', `/api/v1/moderation/actions/${ids.action_to_appeal}/appeal`, { text: 'matrix' }] },
  // Another moderator decides; after that the appeal is decided (409) and the acting owner may not.
  'POST /api/v1/moderation/actions/{id}/decide': { expect: { ...SIGNED_IN('deny'), moderator: 'ok', owner: 'conflict' }, req: () => ['POST', `/api/v1/moderation/actions/${ids.appealed_action}/decide`, { outcome: 'upheld', reason: 'matrix' }] },
  'GET /api/v1/patients/count': { expect: ADMIN_ONLY, req: () => ['GET', '/api/v1/patients/count'] },
  'POST /api/v1/patients/import': { expect: ADMIN_ONLY, req: () => ['POST', '/api/v1/patients/import', { csv: 'mrn,first,last\nM0001,Matrix,Person\n' }] },
  'PUT /api/v1/patients/{mrn}': { expect: ADMIN_ONLY, req: () => ['PUT', '/api/v1/patients/M0002', { first: 'Matrix', last: 'Patient' }] },
  'DELETE /api/v1/patients/{mrn}': { expect: ADMIN_ONLY, req: () => ['DELETE', '/api/v1/patients/M0002'] },
  'GET /api/v1/audit': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/audit'] },
  'GET /api/v1/audit/verify': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/audit/verify'] },
  'POST /api/v1/audit/verify': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/audit/verify'] },
  'GET /api/v1/audit/signing-key': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/audit/signing-key'] },
  'POST /api/v1/audit/signing-key': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/audit/signing-key', { password: PASSWORD }] },
  'GET /api/v1/audit/export': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/audit/export?format=csv'] },
  'GET /api/v1/audit/proof/inclusion': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/audit/proof/inclusion?seq=1'] },
  'GET /api/v1/audit/proof/consistency': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/audit/proof/consistency?from=1'] },
  // Emergency access: any staff member may look and ask (here refused on content: the reason is
  // too short); nobody but the holder or a compliance officer ends a grant, and only officers review.
  'GET /api/v1/emergency-access/spaces': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/emergency-access/spaces'] },
  'GET /api/v1/emergency-access': { expect: SIGNED_IN('ok'), req: () => ['GET', '/api/v1/emergency-access'] },
  'POST /api/v1/emergency-access': { expect: SIGNED_IN('bad'), req: () => ['POST', '/api/v1/emergency-access', { space_id: space.id, reason: 'short', password: PASSWORD }] },
  'POST /api/v1/emergency-access/{id}/end': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/emergency-access/999999/end'] },
  'POST /api/v1/emergency-access/{id}/review': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/emergency-access/999999/review', { outcome: 'justified' }] },
  'GET /api/v1/legal-holds': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/legal-holds'] },
  'POST /api/v1/legal-holds': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/legal-holds', { name: 'matrix', reason: 'matrix', space_ids: [space.id] }] },
  'POST /api/v1/legal-holds/{id}/release': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/legal-holds/1/release'] },
  'POST /api/v1/retention/run': { expect: ADMIN_ONLY, req: () => ['POST', '/api/v1/retention/run'] },
  'GET /api/v1/exports': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/exports'] },
  'POST /api/v1/exports': { expect: SIGNED_IN('deny'), req: () => ['POST', '/api/v1/exports', { space_ids: [space.id] }] },
  'GET /api/v1/exports/{id}/files/{name}': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/exports/1/files/manifest.json'] },
  'GET /api/v1/exports/{id}/archive': { expect: SIGNED_IN('deny'), req: () => ['GET', '/api/v1/exports/1/archive'] },
  'DELETE /api/v1/exports/{id}': { expect: SIGNED_IN('deny'), req: () => ['DELETE', '/api/v1/exports/1'] },
};
// Unless a row says otherwise, an administrator not administering stands where a non-member does.
for (const row of Object.values(MATRIX)) row.expect.resting_admin ??= row.expect.non_member;

// Every answer of every route to every caller carries the security headers (ASVS 3.4, 4.1.1).
function securityHeaderProblem(url, res) {
  const csp = res.headers.get('content-security-policy') || '';
  // A stored file is served with nothing allowed at all ('none'), the rest with 'self'.
  if (!csp.includes("default-src 'self'") && !csp.includes("default-src 'none'")) return 'CSP lacks default-src';
  for (const directive of ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
    if (!csp.includes(directive)) return `CSP lacks ${directive}`;
  }
  if (res.headers.get('x-content-type-options') !== 'nosniff') return 'no nosniff';
  if (res.headers.get('referrer-policy') !== 'no-referrer') return 'no Referrer-Policy';
  if (url.startsWith('/api/') && res.headers.get('cache-control') !== 'no-store') return 'API response may be cached';
  const type = res.headers.get('content-type');
  const binary = /^(image\/(png|jpeg|gif|webp)|application\/(pdf|octet-stream))$/.test(type ?? '');
  if (res.status !== 204 && !binary && !(type && /charset=utf-8/.test(type))) return `Content-Type without charset: ${type}`;
  if (res.headers.get('access-control-allow-origin')) return 'a CORS header';
  return null;
}

function outcomeOf(status) {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 401) return 'auth';
  if (status === 403 || status === 404) return 'deny';
  if (status === 409) return 'conflict';
  if (status === 426) return 'upgrade';
  if (status === 400) return 'bad';
  return `status ${status}`;
}

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['owner', 'moderator', 'member', 'read_only', 'non_member', 'disabled', 'resting_admin']);
  ids = Object.fromEntries(Object.entries(users).map(([k, c]) => [k, c.user.id]));
  users.admin = admin;
  ids.admin = admin.user.id;
  assert.equal((await admin.patch(`/api/v1/users/${ids.resting_admin}`, { is_admin: true })).status, 200);
  space = await createSpace(users.owner, { name: 'Matrix Space', visibility: 'private' });
  await addMember(users.owner, space.id, ids.moderator, 'moderator');
  await addMember(users.owner, space.id, ids.member, 'member');
  await addMember(users.owner, space.id, ids.read_only, 'read_only');
  ids.message = (await freshMessage('member')).id;
  ids.attachment = await freshUpload();
  await freshMessage('member', { attachment_ids: [ids.attachment] });
  ids.idea = (await freshMessage('member', { kind: 'idea' })).id;
  ids.poll = (await freshMessage('member', { kind: 'poll', poll_options: ['a', 'b'] })).id;
  const question = await freshMessage('member', { kind: 'question' });
  ids.answer = (await freshMessage('moderator', { parent_id: question.id })).id;
  // Moderation actions on the member's posts: one for the appeal row, one already appealed.
  const warn = async () => (await users.owner.post(`/api/v1/messages/${(await freshMessage('member')).id}/moderate`, { action: 'warn', reason: 'matrix' })).body.id;
  ids.action_to_appeal = await warn();
  ids.appealed_action = await warn();
  assert.equal((await users.member.post(`/api/v1/moderation/actions/${ids.appealed_action}/appeal`, { text: 'please' })).status, 200);
  // The disabled user's token stays in hand after the account is disabled.
  await admin.patch(`/api/v1/users/${ids.disabled}`, { disabled: true });
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('every registered route has a row in the matrix', () => {
  const result = runCli(['routes']);
  assert.equal(result.status, 0, result.stderr);
  const registered = result.stdout.trim().split('\n');
  const missing = registered.filter((r) => !MATRIX[r]);
  assert.deepEqual(missing, [], 'add these routes to the authorization matrix');
  const stale = Object.keys(MATRIX).filter((r) => !registered.includes(r));
  assert.deepEqual(stale, []);
});

test('every cell of the matrix holds', async () => {
  const failures = [];
  for (const [route, row] of Object.entries(MATRIX)) {
    for (const role of ROLES) {
      let client;
      if (role === 'signed_out') client = server.client();
      else if (row.fresh_session && role !== 'disabled') {
        client = server.client();
        if (role === 'admin') await client.login('admin', ROOT_PASSWORD);
        else await client.login(role, PASSWORD);
      } else client = users[role];
      const [method, url, body, options] = await row.req(role);
      const res = await client.request(method, url, body, options);
      const got = outcomeOf(res.status);
      if (got !== row.expect[role]) failures.push(`${route} as ${role}: expected ${row.expect[role]}, got ${got} (${res.body?.code ?? ''})`);
      const headerProblem = securityHeaderProblem(url, res);
      if (headerProblem) failures.push(`${route} as ${role}: ${headerProblem}`);
      if (row.rejoin && got === 'ok') await addMember(users.owner, space.id, ids[role], role === 'moderator' ? 'moderator' : role === 'read_only' ? 'read_only' : 'member');
    }
  }
  assert.deepEqual(failures, []);
});

// The same callers on the WebSocket: who may connect, who receives the private space's events
// (replayed and live), and whose typing is relayed.
test('WebSocket actions by role', async () => {
  const expected = {
    signed_out: { connect: 401 }, disabled: { connect: 401 },
    non_member: { events: false, typing: false }, admin: { events: false, typing: false },
    resting_admin: { events: false, typing: false },
    read_only: { events: true, typing: false }, member: { events: true, typing: true },
    moderator: { events: true, typing: true }, owner: { events: true, typing: true },
  };
  const listener = await users.owner.openEvents();
  listener.send({ type: 'resume', cursors: {} });
  await listener.waitFor((f) => f.type === 'resumed');
  const failures = [];
  for (const role of ROLES) {
    const client = role === 'signed_out' ? server.client() : users[role];
    if (expected[role].connect) {
      const refused = await client.openEvents().then(() => 0, (e) => e.statusCode);
      if (refused !== expected[role].connect) failures.push(`${role}: connect ${refused}`);
      continue;
    }
    const stream = await client.openEvents();
    stream.send({ type: 'resume', cursors: { [space.id]: 0 } });
    await stream.waitFor((f) => f.type === 'resumed');
    const replayed = stream.events(space.id).length > 0;
    const live = await freshMessage('member');
    const got = await stream.waitFor((f) => f.type === 'event' && f.seq === live.seq, 1500).then(() => true, () => false);
    if (replayed !== expected[role].events || got !== expected[role].events) {
      failures.push(`${role}: replayed ${replayed}, live ${got}, expected ${expected[role].events}`);
    }
    if (role !== 'owner') {
      const before = listener.frames.filter((f) => f.type === 'typing' && f.user_id === ids[role]).length;
      stream.send({ type: 'typing', space_id: space.id });
      await new Promise((r) => setTimeout(r, 300));
      const relayed = listener.frames.filter((f) => f.type === 'typing' && f.user_id === ids[role]).length > before;
      if (relayed !== expected[role].typing) failures.push(`${role}: typing relayed ${relayed}`);
    }
    await stream.close();
  }
  await listener.close();
  assert.deepEqual(failures, []);
});
