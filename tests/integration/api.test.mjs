// The HTTP API end to end against the real binary: authentication, spaces, messages and every
// post kind, idempotency, search privacy, and the security headers on every response.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, createSpace, addMember, createOfficer, PASSWORD } from './fixtures.mjs';

let server, admin, users;

// A counter or gauge from /metrics, as a number.
async function metric(name) {
  const text = await (await fetch(server.baseUrl + '/metrics')).text();
  return Number(text.match(new RegExp(`${name} (\\d+)`))?.[1]);
}

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['nora', 'omar', 'pia', 'quill']);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('login with a bearer token and read me', async () => {
  const me = await users.nora.get('/api/v1/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.user.username, 'nora');
  assert.ok(me.body.csrf_token.length >= 20);
});

test('wrong password and unknown user get the same answer', async () => {
  const c = server.client();
  const wrong = await c.post('/api/v1/auth/login', { username: 'nora', password: 'not-the-password-at-all' });
  const unknown = await c.post('/api/v1/auth/login', { username: 'nobody-here', password: 'not-the-password-at-all' });
  assert.equal(wrong.status, 401);
  assert.equal(unknown.status, 401);
  assert.equal(wrong.body.code, 'invalid_credentials');
  assert.equal(unknown.body.code, wrong.body.code);
  assert.match(wrong.headers.get('content-type'), /application\/problem\+json/);
});

test('cookie sessions need the CSRF header on state changes; bearer sessions do not', async () => {
  const c = server.client();
  const login = await c.login('omar', PASSWORD, { cookie: true });
  const setCookie = c.cookie;
  assert.match(setCookie, /^rounds_session=/);
  const raw = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'omar', password: PASSWORD }),
  });
  const cookieHeader = raw.headers.get('set-cookie');
  assert.match(cookieHeader, /HttpOnly/);
  assert.match(cookieHeader, /SameSite=Strict/);
  assert.ok(login.csrf_token);
  // Reading works with the cookie alone.
  c.csrf = null;
  assert.equal((await c.get('/api/v1/me')).status, 200);
  // Writing without the header is refused and changes nothing.
  const refused = await c.post('/api/v1/spaces', { kind: 'community', name: 'No CSRF' });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'csrf_required');
  c.csrf = 'wrong-token';
  const mismatch = await c.post('/api/v1/spaces', { kind: 'community', name: 'No CSRF' });
  assert.equal(mismatch.body.code, 'csrf_mismatch');
  const discover = await users.nora.get('/api/v1/spaces?scope=discover&q=No%20CSRF');
  assert.equal(discover.body.items.length, 0);
  c.csrf = login.csrf_token;
  assert.equal((await c.post('/api/v1/spaces', { kind: 'community', name: 'With CSRF' })).status, 201);
});

test('compliance officers find every space by name; nobody else lists them', async () => {
  const officer = await createOfficer(server, admin, 'opal');
  const hidden = await createSpace(users.quill, { name: 'Directory Leads', kind: 'channel', visibility: 'private' });
  const open = await createSpace(users.quill, { name: 'Directory Open House' });
  const dm = (await users.quill.post('/api/v1/direct', { user_ids: [users.pia.user.id] })).body;
  const found = await officer.get('/api/v1/spaces?scope=all&q=directory');
  assert.equal(found.status, 200, found.text);
  assert.deepEqual(found.body.items.map((s) => s.id), [hidden.id, open.id]);
  const leads = found.body.items[0];
  assert.equal(leads.visibility, 'private');
  assert.equal(leads.my_role, null);
  assert.equal(leads.template.key, 'internal-community');
  // Direct conversations when asked for, with their people; a kind that does not exist is an error.
  const directs = await officer.get('/api/v1/spaces?scope=all&kind=direct&limit=100');
  const conversation = directs.body.items.find((s) => s.id === dm.id);
  assert.deepEqual(conversation.members.map((m) => m.username).sort(), ['pia', 'quill']);
  assert.ok(directs.body.items.every((s) => s.kind === 'direct'));
  const badKind = await officer.get('/api/v1/spaces?scope=all&kind=forum');
  assert.equal(badKind.status, 400);
  assert.equal(badKind.body.field, 'kind');
  // Pages by cursor.
  const page = await officer.get('/api/v1/spaces?scope=all&q=directory&limit=1');
  assert.deepEqual(page.body.items.map((s) => s.id), [hidden.id]);
  const next = await officer.get(`/api/v1/spaces?scope=all&q=directory&limit=1&cursor=${page.body.next_cursor}`);
  assert.deepEqual(next.body.items.map((s) => s.id), [open.id]);
  // The space's owner, an administrator, anyone else: refused, and not told which spaces exist.
  for (const client of [users.quill, admin, users.pia]) {
    const refused = await client.get('/api/v1/spaces?scope=all&q=directory');
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.code, 'compliance_required');
    assert.equal(refused.body.items, undefined);
  }
  assert.equal((await users.pia.get('/api/v1/spaces?scope=everything')).body.field, 'scope');
});

test('logout ends the session server-side', async () => {
  const c = server.client();
  await c.login('pia', PASSWORD);
  assert.equal((await c.post('/api/v1/auth/logout')).status, 204);
  const after = await c.get('/api/v1/me');
  assert.equal(after.status, 401);
});

test('forged and missing tokens are refused', async () => {
  const c = server.client();
  assert.equal((await c.get('/api/v1/me')).status, 401);
  c.token = 'forged-token-value';
  const forged = await c.get('/api/v1/me');
  assert.equal(forged.status, 401);
  assert.equal(forged.body.code, 'invalid_session');
});

test('community posts: discussion, question with accepted answer, idea votes, poll votes, pins', async () => {
  const space = await createSpace(users.nora, { name: 'Falls Prevention', topic: 'Ideas and questions' });
  await addMember(users.nora, space.id, users.omar.user.id);
  const question = await users.omar.post(`/api/v1/spaces/${space.id}/messages`,
    { kind: 'question', title: 'Bed alarms?', body: 'Which wards use them at night?' });
  assert.equal(question.status, 201);
  assert.equal(question.body.kind, 'question');
  const answer = await users.nora.post(`/api/v1/spaces/${space.id}/messages`,
    { body: 'Ward 5 and 7 do.', parent_id: question.body.id });
  assert.equal(answer.status, 201);
  // Only the asker (or a moderator) may accept.
  const notAsker = await users.nora.post(`/api/v1/messages/${answer.body.id}/accept`);
  assert.equal(notAsker.status, 200, 'owner may accept any answer');
  const accepted = await users.omar.post(`/api/v1/messages/${answer.body.id}/accept`);
  assert.equal(accepted.body.accepted_answer_id, answer.body.id);

  const idea = await users.omar.post(`/api/v1/spaces/${space.id}/messages`, { kind: 'idea', title: 'Non-slip socks', body: 'For every admission.' });
  assert.equal((await users.nora.put(`/api/v1/messages/${idea.body.id}/vote`)).body.vote_count, 1);
  assert.equal((await users.nora.put(`/api/v1/messages/${idea.body.id}/vote`)).body.vote_count, 1, 'one vote each');
  assert.equal((await users.omar.put(`/api/v1/messages/${idea.body.id}/vote`)).body.vote_count, 2);

  const poll = await users.nora.post(`/api/v1/spaces/${space.id}/messages`,
    { kind: 'poll', title: 'Audit day?', body: 'Pick one', poll_options: ['Monday', 'Friday'] });
  assert.equal(poll.status, 201);
  await users.omar.post(`/api/v1/messages/${poll.body.id}/poll-vote`, { option: 1 });
  const changed = await users.omar.post(`/api/v1/messages/${poll.body.id}/poll-vote`, { option: 0 });
  assert.deepEqual(changed.body.poll_options.map((o) => o.votes), [1, 0]);
  const badOption = await users.omar.post(`/api/v1/messages/${poll.body.id}/poll-vote`, { option: 5 });
  assert.equal(badOption.status, 400);

  const announcement = await users.omar.post(`/api/v1/spaces/${space.id}/messages`, { kind: 'announcement', body: 'Members cannot announce' });
  assert.equal(announcement.status, 403);
  assert.equal((await users.omar.put(`/api/v1/messages/${idea.body.id}/pin`)).status, 403);
  assert.equal((await users.nora.put(`/api/v1/messages/${idea.body.id}/pin`)).body.pinned, true);
  const pins = await users.omar.get(`/api/v1/spaces/${space.id}/pins`);
  assert.deepEqual(pins.body.items.map((m) => m.id), [idea.body.id]);

  const thread = await users.omar.get(`/api/v1/messages/${question.body.id}/thread`);
  assert.equal(thread.body.items.length, 1);
  assert.equal(thread.body.root.reply_count, 1);
});

test('reactions, edits with history, deletes that vanish from views and search', async () => {
  const space = await createSpace(users.pia, { name: 'Edits Room' });
  await addMember(users.pia, space.id, users.quill.user.id);
  const m = await users.quill.post(`/api/v1/spaces/${space.id}/messages`, { body: 'Original zebrafinch wording' });
  assert.equal((await users.pia.put(`/api/v1/messages/${m.body.id}/reactions/${encodeURIComponent('👍')}`)).body.count, 1);
  const byOther = await users.pia.patch(`/api/v1/messages/${m.body.id}`, { body: 'hijack' });
  assert.equal(byOther.status, 403);
  const edited = await users.quill.patch(`/api/v1/messages/${m.body.id}`, { body: 'Corrected wording' });
  assert.ok(edited.body.edited_at > 0);
  const history = await users.quill.get(`/api/v1/messages/${m.body.id}/history`);
  assert.deepEqual(history.body.items.map((v) => v.body), ['Original zebrafinch wording', 'Corrected wording']);
  assert.equal((await users.quill.get('/api/v1/search?q=zebrafinch')).body.messages.length, 0, 'edited-away text is not found');
  assert.equal((await users.quill.get('/api/v1/search?q=corrected')).body.messages.length, 1);
  assert.equal((await users.quill.del(`/api/v1/messages/${m.body.id}`)).status, 204);
  assert.equal((await users.quill.get('/api/v1/search?q=corrected')).body.messages.length, 0, 'deleted text is not found');
  assert.equal((await users.pia.get(`/api/v1/messages/${m.body.id}`)).status, 404);
  const list = await users.pia.get(`/api/v1/spaces/${space.id}/messages`);
  assert.equal(list.body.items.length, 0);
});

test('ten concurrent retries with one client_id store one message', async () => {
  const space = await createSpace(users.nora, { name: 'Retries', kind: 'channel' });
  const attempts = await Promise.all(Array.from({ length: 10 }, () =>
    users.nora.post(`/api/v1/spaces/${space.id}/messages`, { body: 'exactly once', client_id: 'retry-abc' })));
  const ids = new Set(attempts.map((r) => r.body.id));
  assert.equal(ids.size, 1);
  assert.equal(attempts.filter((r) => r.status === 201).length, 1);
  assert.equal(attempts.filter((r) => r.status === 200).length, 9);
  const list = await users.nora.get(`/api/v1/spaces/${space.id}/messages`);
  assert.equal(list.body.items.length, 1);
});

test('private spaces: invisible to non-members, in search too', async () => {
  const secret = await createSpace(users.nora, { name: 'Secret Huddle', kind: 'channel', visibility: 'private' });
  await users.nora.post(`/api/v1/spaces/${secret.id}/messages`, { body: 'the marmalade plan' });
  const open = await createSpace(users.nora, { name: 'Open Huddle', kind: 'channel' });
  await users.nora.post(`/api/v1/spaces/${open.id}/messages`, { body: 'the marmalade menu' });
  assert.equal((await users.omar.get(`/api/v1/spaces/${secret.id}`)).status, 404);
  assert.equal((await users.omar.get(`/api/v1/spaces/${secret.id}/messages`)).status, 404);
  assert.equal((await users.omar.post(`/api/v1/spaces/${secret.id}/join`)).status, 404);
  const omarSearch = await users.omar.get('/api/v1/search?q=marmalade');
  assert.deepEqual(omarSearch.body.messages.map((h) => h.message.body), ['the marmalade menu']);
  assert.match(omarSearch.body.messages[0].snippet, /\[\[marmalade\]\]/);
  const noraSearch = await users.nora.get('/api/v1/search?q=marmalade');
  assert.equal(noraSearch.body.messages.length, 2);
});

test('read markers drive unread counts; mentions are listed', async () => {
  const space = await createSpace(users.pia, { name: 'Unread Room', kind: 'channel' });
  assert.equal((await users.omar.post(`/api/v1/spaces/${space.id}/join`)).status, 200);
  for (let i = 0; i < 3; i++) await users.pia.post(`/api/v1/spaces/${space.id}/messages`, { body: `note ${i}` });
  const last = await users.pia.post(`/api/v1/spaces/${space.id}/messages`, { body: 'hey @omar look' });
  let mine = (await users.omar.get('/api/v1/spaces')).body.items.find((s) => s.id === space.id);
  assert.equal(mine.unread_count, 4);
  assert.equal(mine.unread_mentions, 1);
  const mentions = await users.omar.get('/api/v1/me/mentions');
  assert.equal(mentions.body.items[0].message.id, last.body.id);
  assert.equal((await users.omar.post(`/api/v1/spaces/${space.id}/read`, { seq: last.body.seq })).status, 204);
  mine = (await users.omar.get('/api/v1/spaces')).body.items.find((s) => s.id === space.id);
  assert.equal(mine.unread_count, 0);
});

test('direct conversations are one per set of people', async () => {
  const a = await users.nora.post('/api/v1/direct', { user_ids: [users.omar.user.id] });
  const b = await users.omar.post('/api/v1/direct', { user_ids: [users.nora.user.id] });
  assert.equal(a.body.id, b.body.id);
  assert.equal(a.body.kind, 'direct');
  assert.equal((await users.pia.get(`/api/v1/spaces/${a.body.id}/messages`)).status, 404);
  // No one leaves one, by either route, and no one is taken out of one.
  for (const res of [
    await users.nora.post(`/api/v1/spaces/${a.body.id}/leave`),
    await users.nora.del(`/api/v1/spaces/${a.body.id}/members/${users.nora.user.id}`),
    await users.nora.del(`/api/v1/spaces/${a.body.id}/members/${users.omar.user.id}`),
  ]) {
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.code, 'invalid_value');
  }
  const again = await users.nora.post('/api/v1/direct', { user_ids: [users.omar.user.id] });
  assert.equal(again.body.my_role, 'member');
  assert.equal((await users.nora.get(`/api/v1/spaces/${a.body.id}/messages`)).status, 200);
});

test('bad input gets a clear 4xx with a stable code and changes nothing', async () => {
  const space = await createSpace(users.quill, { name: 'Validation', kind: 'channel' });
  const url = `/api/v1/spaces/${space.id}/messages`;
  const cases = [
    [{ raw: '{"body": "x"', type: 'application/json' }, 400, 'malformed_json'],
    [{ raw: '{"body": 5}', type: 'application/json' }, 400, 'invalid_type'],
    [{ raw: '{"body": "x", "colour": "red"}', type: 'application/json' }, 400, 'unknown_field'],
    [{ raw: '{"body": "x", "body": "y"}', type: 'application/json' }, 400, 'duplicate_key'],
    [{ raw: Buffer.from([0x7b, 0x22, 0x62, 0x6f, 0x64, 0x79, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), type: 'application/json' }, 400, 'invalid_utf8'],
    [{ raw: '['.repeat(100) + ']'.repeat(100), type: 'application/json' }, 400, 'too_deep'],
    [{ raw: 'body=x', type: 'application/x-www-form-urlencoded' }, 400, 'unsupported_media_type'],
    [{ raw: '{"body": "x"}', type: 'application/jsonp' }, 400, 'unsupported_media_type'],
    [{ raw: '{"body": "x"}', type: 'application/json-seq' }, 400, 'unsupported_media_type'],
    [{ raw: JSON.stringify({ body: 'x'.repeat(10001) }), type: 'application/json' }, 400, 'message_too_long'],
    [{ raw: JSON.stringify({ body: '   ' }), type: 'application/json' }, 400, 'empty_message'],
  ];
  for (const [input, status, code] of cases) {
    const res = await users.quill.request('POST', url, input.raw, { raw: true, headers: { 'content-type': input.type } });
    assert.equal(res.status, status, `${code}: ${res.text}`);
    assert.equal(res.body.code, code);
  }
  // A media type is matched whole and in any case, with its parameters.
  for (const type of ['Application/JSON', 'application/json; charset=utf-8', 'APPLICATION/JSON;charset=UTF-8']) {
    const res = await users.quill.request('POST', url, JSON.stringify({ body: `typed as ${type}` }), { raw: true, headers: { 'content-type': type } });
    assert.equal(res.status, 201, `${type}: ${res.text}`);
    assert.equal((await users.quill.del(`/api/v1/messages/${res.body.id}`)).status, 204);
  }
  // Search pages are checked before anything is narrowed.
  for (const query of ['limit=0', 'limit=51', 'limit=4294967297', 'cursor=-1', 'cursor=4294967296']) {
    const res = await users.quill.get(`/api/v1/search?q=x&${query}`);
    assert.deepEqual([res.status, res.body.code], [400, 'invalid_value'], query);
    assert.equal(res.body.field, query.split('=')[0]);
  }
  const big = await users.quill.request('POST', url, JSON.stringify({ body: 'x'.repeat(2 * 1024 * 1024) }),
    { raw: true, headers: { 'content-type': 'application/json' } }).catch((e) => ({ status: 'closed', e }));
  assert.equal(big.status, 413, `oversized body: ${big.status}`);
  assert.equal(big.body.code, 'payload_too_large');
  const list = await users.quill.get(url);
  assert.equal(list.body.items.filter((m) => !m.deleted).length, 0, 'nothing was stored');
  assert.equal((await users.quill.get('/api/v1/spaces/abc')).status, 404);
  assert.equal((await users.quill.get('/api/v1/spaces/1/messages?limit=abc')).body.code, 'invalid_value');
  const notAllowed = await users.quill.request('PUT', '/api/v1/spaces');
  assert.equal(notAllowed.status, 405);
  // HEAD works wherever GET does, so the Allow header names it too.
  assert.deepEqual(notAllowed.headers.get('allow').split(', ').sort(), ['GET', 'HEAD', 'POST']);
  assert.equal((await users.quill.request('HEAD', '/api/v1/spaces')).status, 200);
});

test('security headers are on every kind of response', async () => {
  for (const path of ['/healthz', '/api/v1/me', '/api/v1/nope', '/', '/some/spa/route', '/assets/missing.js']) {
    const res = await fetch(server.baseUrl + path);
    const csp = res.headers.get('content-security-policy');
    assert.ok(csp, `${path} has CSP`);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /base-uri 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    if (path.startsWith('/api/')) assert.equal(res.headers.get('cache-control'), 'no-store');
  }
});

test('path traversal never leaves the web root', async () => {
  for (const path of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/%00', '/.git/config']) {
    const res = await fetch(server.baseUrl + path);
    const text = await res.text();
    assert.ok(!text.includes('root:'), `${path} leaked a file`);
    assert.ok([400, 404, 200].includes(res.status), `${path}: ${res.status}`);
    if (res.status === 200) assert.match(text, /<html/i, `${path} may only fall back to the app`);
  }
});

test('repeated failures lock the account with Retry-After', async () => {
  const c = server.client();
  let last;
  for (let i = 0; i < 10; i++) last = await c.post('/api/v1/auth/login', { username: 'quill', password: 'wrong-password-attempt' });
  assert.equal(last.status, 429);
  assert.equal(last.body.code, 'account_locked');
  assert.ok(Number(last.headers.get('retry-after')) > 0);
  const right = await c.post('/api/v1/auth/login', { username: 'quill', password: PASSWORD, bearer: true });
  assert.equal(right.status, 429, 'locked even with the right password');
  // An administrator's reset unlocks the account.
  assert.equal((await admin.post(`/api/v1/users/${users.quill.user.id}/password`, { new_password: 'a-brand-new-passphrase' })).status, 204);
  assert.equal((await c.post('/api/v1/auth/login', { username: 'quill', password: 'a-brand-new-passphrase', bearer: true })).status, 200);
  assert.equal((await users.quill.get('/api/v1/me')).status, 401, 'the reset ended old sessions');
});

test('disabling a user ends their sessions', async () => {
  const victim = server.client();
  await admin.post('/api/v1/users', { username: 'temp', display_name: 'Temp', password: PASSWORD });
  await victim.login('temp', PASSWORD);
  assert.equal((await admin.patch(`/api/v1/users/${victim.user.id}`, { disabled: true })).status, 200);
  assert.equal((await victim.get('/api/v1/me')).status, 401);
  const again = await server.client().post('/api/v1/auth/login', { username: 'temp', password: PASSWORD });
  assert.equal(again.body.code, 'account_disabled');
});

test('weak passwords are refused', async () => {
  for (const password of ['short', 'password1234']) {
    const res = await admin.post('/api/v1/users', { username: `weak${password.length}`, display_name: 'W', password });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'weak_password');
  }
});

test('metrics expose requests, sockets and the writer', async () => {
  const text = await (await fetch(server.baseUrl + '/metrics')).text();
  assert.match(text, /rounds_http_requests_total\{method="POST",route="\/api\/v1\/spaces\/\{id\}\/messages",status="201"\} \d+/);
  assert.match(text, /rounds_store_batch_units_bucket/);
  assert.match(text, /rounds_store_commit_seconds_count \d+/);
  assert.match(text, /rounds_messages_stored_total [1-9]/);
  // Each transaction's log frames go out in one write: far fewer issued than requested.
  const requested = Number(text.match(/rounds_store_log_writes_total\{stage="requested"\} (\d+)/)?.[1]);
  const issued = Number(text.match(/rounds_store_log_writes_total\{stage="issued"\} (\d+)/)?.[1]);
  assert.ok(issued > 0, `log writes issued: ${issued}`);
  assert.ok(requested >= 4 * issued, `log writes requested ${requested}, issued ${issued}`);
  // The log's size and who copies it into the database: the checkpointer, a commit that copies its
  // last few frames so that it starts over, or a commit past its bound.
  assert.ok(Number(text.match(/rounds_store_log_frames (\d+)/)?.[1]) > 0, 'frames in the log after the last commit');
  assert.match(text, /rounds_store_checkpoints_total \d+/);
  assert.match(text, /^rounds_store_encrypted 1$/m, 'a new database is encrypted at rest');
  assert.match(text, /^rounds_store_pages_total\{op="sealed"\} [1-9]\d*$/m);
  assert.match(text, /^rounds_store_pages_total\{op="rejected"\} 0$/m);
  assert.match(text, /rounds_store_writer_checkpoints_total \d+/);
  assert.match(text, /rounds_store_writer_catch_ups_total \d+/);
  assert.match(text, /rounds_store_writer_catch_up_seconds_total \d/);
  assert.match(text, /rounds_store_writer_checkpoint_seconds_total \d/);
  assert.match(text, /rounds_store_audit_index_runs_total \d+/);
});

test('a page of messages is served kept until it changes, and never past a removal', async () => {
  const space = await createSpace(users.nora, { name: 'Kept Pages', kind: 'channel', visibility: 'private' });
  await addMember(users.nora, space.id, users.omar.user.id);
  await users.nora.post(`/api/v1/spaces/${space.id}/messages`, { body: 'bed 4 is ready' });
  const first = await users.omar.get(`/api/v1/spaces/${space.id}/messages`);
  assert.equal(first.status, 200);
  const hits = await metric('rounds_page_cache_hits_total');
  const quick = await metric('rounds_http_answered_on_io_thread_total');
  const again = await users.omar.get(`/api/v1/spaces/${space.id}/messages`);
  assert.equal(again.text, first.text);
  assert.equal(await metric('rounds_page_cache_hits_total'), hits + 1, 'the second read is served kept');
  assert.equal(await metric('rounds_http_answered_on_io_thread_total'), quick,
    'a read of a PHI-bearing space waits on the pool for its audit record');
  // Written from the kept text itself: its length, and HEAD gives the headers alone.
  assert.equal(Number(again.headers.get('content-length')), Buffer.byteLength(first.text));
  const head = await users.omar.request('HEAD', `/api/v1/spaces/${space.id}/messages`);
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(first.text));
  assert.equal(head.text, '');
  assert.equal(await metric('rounds_page_cache_hits_total'), hits + 2, 'HEAD is served kept too');
  await users.nora.post(`/api/v1/spaces/${space.id}/messages`, { body: 'bed 5 too' });
  const changed = await users.omar.get(`/api/v1/spaces/${space.id}/messages`);
  assert.deepEqual(changed.body.items.map((m) => m.body), ['bed 5 too', 'bed 4 is ready']);
  assert.equal((await users.nora.del(`/api/v1/spaces/${space.id}/members/${users.omar.user.id}`)).status, 204);
  assert.equal((await users.omar.get(`/api/v1/spaces/${space.id}/messages`)).status, 404, 'the permission check comes first');
  assert.ok(await metric('rounds_page_cache_entries') >= 1);
});

test('a reader\'s check of a kept page is trusted for a moment, never past a removal or a change', async () => {
  // Announcements: reads are not audited, so kept pages are answered on the I/O thread.
  const space = await createSpace(users.nora, { name: 'Trusted Checks', visibility: 'private', template: 'announcements' });
  await addMember(users.nora, space.id, users.omar.user.id);
  await users.nora.post(`/api/v1/spaces/${space.id}/messages`, { body: 'theatre 2 closed' });
  const path = `/api/v1/spaces/${space.id}/messages`;
  const first = await users.omar.get(path);  // rendered and kept
  assert.equal(first.status, 200);
  assert.equal((await users.omar.get(path)).text, first.text, 'checked in full, on the I/O thread');
  const trusted = await metric('rounds_page_cache_trusted_checks_total');
  assert.equal((await users.omar.get(path)).text, first.text);
  assert.equal(await metric('rounds_page_cache_trusted_checks_total'), trusted + 1, 'the check is trusted');
  // A post: the page changes, at once.
  await users.nora.post(`/api/v1/spaces/${space.id}/messages`, { body: 'theatre 2 open again' });
  const changed = await users.omar.get(path);
  assert.deepEqual(changed.body.items.map((m) => m.body), ['theatre 2 open again', 'theatre 2 closed']);
  await users.omar.get(path);
  await users.omar.get(path);
  // A removal: refused at once, though the check was trusted a moment ago.
  assert.equal((await users.nora.del(`/api/v1/spaces/${space.id}/members/${users.omar.user.id}`)).status, 204);
  assert.equal((await users.omar.get(path)).status, 404);
  assert.equal((await users.omar.get(path)).status, 404);
});

test('a reader never gets a kept page older than a post acknowledged before the read began', async () => {
  const space = await createSpace(users.nora, { name: 'Read Your Writes', visibility: 'private', template: 'announcements' });
  await addMember(users.nora, space.id, users.omar.user.id);
  const path = `/api/v1/spaces/${space.id}/messages?limit=5`;
  // Reads that keep the page warm while the posts go on, from another reader.
  let stop = false;
  const background = (async () => {
    let reads = 0;
    while (!stop) {
      assert.equal((await users.omar.get(path)).status, 200);
      reads += 1;
    }
    return reads;
  })();
  for (let i = 0; i < 60; i += 1) {
    const posted = await users.nora.post(`/api/v1/spaces/${space.id}/messages`, { body: `round ${i}` });
    assert.equal(posted.status, 201);
    for (const reader of [users.nora, users.omar]) {
      const page = await reader.get(path);
      assert.equal(page.status, 200);
      assert.equal(page.body.items[0].id, posted.body.id, `round ${i}: the newest item is the post just acknowledged`);
    }
  }
  stop = true;
  assert.ok(await background > 0);
});

test('a post from a known session is answered after its commit, with no thread waiting, under every check', async () => {
  const later = () => metric('rounds_http_answered_after_commit_total');
  const space = await createSpace(users.nora, { name: 'Posts After Commit', visibility: 'private' });
  await addMember(users.nora, space.id, users.omar.user.id);
  const path = `/api/v1/spaces/${space.id}/messages`;
  const stream = await users.omar.openEvents();
  stream.send({ type: 'resume', cursors: {} });
  await stream.waitFor((f) => f.type === 'resumed');
  let before = await later();
  const posted = await users.nora.post(path, { body: 'bed 9 is clean', client_id: 'after-commit-1' });
  assert.equal(posted.status, 201, posted.text);
  assert.equal(await later(), before + 1, 'taken on the I/O thread');
  // Stored, published and readable once acknowledged.
  const frame = await stream.waitFor((f) => f.type === 'event' && f.event === 'message.created' && f.data.id === posted.body.id);
  assert.equal(frame.data.body, 'bed 9 is clean');
  const page = await users.omar.get(path);
  assert.equal(page.body.items[0].id, posted.body.id);
  // A retry returns the original.
  const retry = await users.nora.post(path, { body: 'bed 9 is clean', client_id: 'after-commit-1' });
  assert.equal(retry.status, 200);
  assert.equal(retry.body.id, posted.body.id);
  // Refusals are the service's, as on the pool: a non-member, an empty message.
  before = await later();
  const outsider = await users.pia.post(path, { body: 'let me in' });
  assert.ok([403, 404].includes(outsider.status), outsider.text);
  const empty = await users.nora.post(path, { body: '   ' });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.code, 'empty_message');
  assert.equal(await later(), before + 2);
  // What the I/O thread declines, the pool answers the same way: a malformed body, a long one, a
  // browser session without its CSRF token.
  before = await later();
  const malformed = await users.nora.post(path, { body: 'x', unknown_field: 1 });
  assert.equal(malformed.status, 400, malformed.text);
  const long = await users.nora.post(path, { body: 'handover notes '.repeat(400) });
  assert.equal(long.status, 201, long.text);
  const browser = server.client();
  await browser.login('nora', PASSWORD, { cookie: true });
  const csrf = browser.csrf;
  browser.csrf = null;
  const noCsrf = await browser.post(path, { body: 'no token' });
  assert.equal(noCsrf.status, 403);
  assert.equal(noCsrf.body.code, 'csrf_required');
  browser.csrf = 'not-the-token';
  assert.equal((await browser.post(path, { body: 'wrong token' })).body.code, 'csrf_mismatch');
  assert.equal(await later(), before, 'declined to the pool');
  browser.csrf = csrf;
  assert.equal((await browser.post(path, { body: 'from the browser' })).status, 201);
  assert.equal(await later(), before + 1, 'a browser session with its token is taken too');
  // Nothing refused was stored.
  const bodies = (await users.nora.get(`${path}?limit=20`)).body.items.map((m) => m.body);
  assert.deepEqual(bodies.filter((b) => !b.startsWith('handover')), ['from the browser', 'bed 9 is clean']);
  await stream.close();
});

test('a kept page whose read needs no audit record is answered on the I/O thread, after every check', async () => {
  const quick = () => metric('rounds_http_answered_on_io_thread_total');
  const space = await createSpace(users.nora, { name: 'Kept Bulletins', visibility: 'private', template: 'announcements' });
  await addMember(users.nora, space.id, users.omar.user.id);
  await users.nora.post(`/api/v1/spaces/${space.id}/messages`, { body: 'theatre 2 closes at noon' });
  const path = `/api/v1/spaces/${space.id}/messages`;
  const first = await users.omar.get(path);
  assert.equal(first.status, 200);
  let before = await quick();
  const again = await users.omar.get(path);
  assert.equal(again.text, first.text);
  assert.equal(await quick(), before + 1, 'answered on the I/O thread');
  const head = await users.omar.request('HEAD', path);
  assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(first.text));
  assert.equal(head.text, '');
  assert.equal(await quick(), before + 2, 'HEAD too');
  // A change shows at once; a thread or a catch-up page is the pool's.
  await users.nora.post(path, { body: 'theatre 2 reopens at 4' });
  const changed = await users.omar.get(path);
  assert.deepEqual(changed.body.items.map((m) => m.body), ['theatre 2 reopens at 4', 'theatre 2 closes at noon']);
  before = await quick();
  assert.equal((await users.omar.get(`${path}?after=0`)).status, 200);
  assert.equal((await users.omar.get(`${path}?limit=abc`)).status, 400, 'a bad query is refused as before');
  assert.equal(await quick(), before);
  // A non-member is refused by the pool's handler, never answered from the kept page.
  assert.equal((await users.pia.get(path)).status, 404);
  assert.equal(await quick(), before);
  // A browser's session (cookie) is answered kept too, until it signs out; then it is refused.
  const browser = server.client();
  await browser.login('nora', PASSWORD, { cookie: true });
  const page = await browser.get(`/api/v1/spaces/${space.id}/messages`);
  assert.equal(page.status, 200);
  const quickCookie = await metric('rounds_http_answered_on_io_thread_total');
  assert.equal((await browser.get(`/api/v1/spaces/${space.id}/messages`)).text, page.text);
  assert.equal(await metric('rounds_http_answered_on_io_thread_total'), quickCookie + 1);
  assert.equal((await browser.post('/api/v1/auth/logout')).status, 204);
  assert.equal((await browser.get(`/api/v1/spaces/${space.id}/messages`)).status, 401);
  // A removed member is refused at once, though the page they read a moment ago is kept.
  before = await quick();
  assert.equal((await users.omar.get(path)).text, changed.text);
  assert.equal(await quick(), before + 1);
  assert.equal((await users.nora.del(`/api/v1/spaces/${space.id}/members/${users.omar.user.id}`)).status, 204);
  assert.equal((await users.omar.get(path)).status, 404);
});

test('names shown to others are one visible line: no controls, no direction overrides, not only spaces', async () => {
  const base = { email: 'nameless@example.org', job_role: 'Registered Nurse', password: PASSWORD };
  for (const display_name of ['   ', 'Ana\nAdmin', 'bell\u0007', 'nul\u0000x', '\u202Egnp.exe', 'a\u2066b']) {
    const res = await admin.post('/api/v1/users', { ...base, username: 'nameless', display_name });
    assert.deepEqual([res.status, res.body.code], [400, 'invalid_value'], JSON.stringify(display_name));
    assert.equal(res.body.field, '/display_name');
  }
  const patched = await admin.patch(`/api/v1/users/${users.pia.user.id}`, { display_name: 'Pia\r\nAdministrator' });
  assert.equal(patched.status, 400);
  assert.equal((await admin.get(`/api/v1/users/${users.pia.user.id}`)).body.display_name, 'User pia');
  // Each department once, as it is stored.
  const dept = await admin.post('/api/v1/departments', { name: 'Radiology' });
  assert.equal(dept.status, 201, dept.text);
  const made = await admin.post('/api/v1/users', { ...base, username: 'twice', display_name: 'Twice', department_ids: [dept.body.id, dept.body.id] });
  assert.equal(made.status, 201, made.text);
  assert.deepEqual(made.body.department_ids, [dept.body.id]);
  assert.deepEqual((await admin.get(`/api/v1/users/${made.body.id}`)).body.department_ids, [dept.body.id]);
});

test('a space is joined as its template says, whatever the space\'s own setting', async () => {
  const team = await createSpace(users.nora, { name: 'Ward 7 team', template: 'clinical-team', visibility: 'public', join_policy: 'open' });
  assert.equal(team.join_policy, 'invite', 'shown as its template admits people');
  const refused = await users.omar.post(`/api/v1/spaces/${team.id}/join`);
  assert.deepEqual([refused.status, refused.body.code], [403, 'invitation_required']);
  const forum = await createSpace(users.nora, { name: 'Knee surgery peers', template: 'patient-forum', visibility: 'public', join_policy: 'open' });
  const asked = await users.omar.post(`/api/v1/spaces/${forum.id}/join`);
  assert.deepEqual([asked.status, asked.body.code], [403, 'join_request_required']);
  // Owners still add people.
  await addMember(users.nora, team.id, users.omar.user.id);
  assert.equal((await users.omar.get(`/api/v1/spaces/${team.id}/messages`)).status, 200);
  // An internal community is open to walk into.
  const open = await createSpace(users.nora, { name: 'Book club', visibility: 'public', join_policy: 'open' });
  assert.equal(open.join_policy, 'open');
  assert.equal((await users.omar.post(`/api/v1/spaces/${open.id}/join`)).status, 200);
});
