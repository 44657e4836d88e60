// PHI split between two posts against the real server: chat is sent a line at a time, so "her ssn
// is 987-65-" and then "4320" each pass a PHI rule alone. The second post is screened after the end
// of its author's previous post in the same conversation, so the rule decides on what the two say
// together: a block refuses the second, a redaction takes its part out, the composer's preview
// says so first; another author's post, or a post in another thread, continues nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, createSpace, addMember, createOfficer, assignNewVersion } from './fixtures.mjs';

let server, admin, users, officer, blocked, redacted;

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['ana', 'ben']);
  officer = await createOfficer(server, admin);
  blocked = await createSpace(users.ana, { name: 'Family forum' });
  redacted = await createSpace(users.ana, { name: 'Discharge desk' });
  for (const space of [blocked, redacted]) await addMember(users.ana, space.id, users.ben.user.id);
  await assignNewVersion(officer, blocked.id, 'internal-community', (d) => ({ ...d, phi: 'block' }));
  await assignNewVersion(officer, redacted.id, 'internal-community', (d) => ({ ...d, phi: 'redact' }));
});

test.after(async () => {
  await server?.stop();
  server?.cleanup();
});

async function post(client, spaceId, body, extra = {}) {
  const res = await client.post(`/api/v1/spaces/${spaceId}/messages`, { body, ...extra });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function bodies(client, spaceId) {
  const res = await client.get(`/api/v1/spaces/${spaceId}/messages?limit=100`);
  assert.equal(res.status, 200, res.text);
  return res.body.items.map((m) => m.body);
}

test('the second half of an identifier split between two posts is refused where PHI is blocked', async () => {
  await post(users.ana, blocked.id, 'her ssn is 987-65-');
  // The composer's preview already says so ...
  const preview = await users.ana.post(`/api/v1/spaces/${blocked.id}/phi-check`, { body: '4320' });
  assert.equal(preview.status, 200, preview.text);
  assert.equal(preview.body.action, 'block');
  assert.deepEqual(preview.body.findings.map((f) => [f.type, f.field, f.begin, f.end, f.across_messages, f.in_reply]),
    [['ssn', 'body', 0, 4, true, undefined]]);
  // ... and the post is refused, listing the span in the second post, storing nothing.
  const refused = await users.ana.post(`/api/v1/spaces/${blocked.id}/messages`, { body: '4320' });
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.body.code, 'phi_blocked');
  assert.ok(refused.headers.get('content-type').startsWith('application/problem+json'));
  assert.deepEqual(refused.body.findings.map((f) => [f.type, f.begin, f.end, f.across_messages]), [['ssn', 0, 4, true]]);
  assert.deepEqual(await bodies(users.ana, blocked.id), ['her ssn is 987-65-']);  // the one before only
  // The same text from someone else continues nothing of hers.
  await post(users.ben, blocked.id, '4320');
  const check = await users.ben.post(`/api/v1/spaces/${blocked.id}/phi-check`, { body: '4320' });
  assert.equal(check.body.action, 'allow', check.text);
});

test('a value whose context word was posted before is redacted from the second post', async () => {
  await post(users.ana, redacted.id, 'call her daughter back at 617-555');
  const second = await post(users.ana, redacted.id, '0142 after 5pm');
  assert.equal(second.body, '[REDACTED:PHONE] after 5pm');
  await post(users.ana, redacted.id, 'pt dob is');
  const third = await post(users.ana, redacted.id, '3/4/1950, allergic to latex');
  assert.equal(third.body, '[REDACTED:DATE], allergic to latex');
  // Newest first: the first posts are stored as written.
  assert.deepEqual((await bodies(users.ana, redacted.id)).slice(0, 4).reverse(),
    ['call her daughter back at 617-555', '[REDACTED:PHONE] after 5pm', 'pt dob is', '[REDACTED:DATE], allergic to latex']);
});

test('a post continues only its author\'s previous post in the same conversation', async () => {
  const root = await post(users.ana, blocked.id, 'handover thread for bay 3');
  await post(users.ana, blocked.id, 'her dob is');
  // A reply joins the thread, where she has said nothing yet.
  const reply = await post(users.ana, blocked.id, '3/4/1950', { parent_id: root.id });
  assert.equal(reply.body, '3/4/1950');
  // The same at the top level continues "her dob is".
  const refused = await users.ana.post(`/api/v1/spaces/${blocked.id}/messages`, { body: '3/4/1950' });
  assert.equal(refused.status, 422, refused.text);
  assert.deepEqual(refused.body.findings.map((f) => [f.type, f.across_messages]), [['date', true]]);
  // In the thread, the reply's preview continues her reply.
  await post(users.ana, blocked.id, 'and her ssn is 987-65-', { parent_id: root.id });
  const inThread = await users.ana.post(`/api/v1/spaces/${blocked.id}/phi-check`, { body: '4320', parent_id: root.id });
  assert.equal(inThread.body.action, 'block', inThread.text);
  const atTop = await users.ana.post(`/api/v1/spaces/${blocked.id}/phi-check`, { body: '4320' });
  assert.equal(atTop.body.action, 'allow', atTop.text);
  // A bad thread id is a clear error.
  const bad = await users.ana.post(`/api/v1/spaces/${blocked.id}/phi-check`, { body: '4320', parent_id: 'x' });
  assert.equal(bad.status, 400, bad.text);
});

test('an edit is read between its author\'s posts around it, so it cannot finish or start what they split', async () => {
  const patch = (client, id, body) => client.request('PATCH', `/api/v1/messages/${id}`, { body });
  // Finishing: "ok" after the first half passes, and editing it into the second half does not.
  const first = await post(users.ana, blocked.id, 'thread one', {});
  await post(users.ben, blocked.id, 'her ssn is 987-65-', { parent_id: first.id });
  const ok = await post(users.ben, blocked.id, 'ok', { parent_id: first.id });
  const finished = await patch(users.ben, ok.id, '4320');
  assert.equal(finished.status, 422, finished.text);
  assert.equal(finished.body.code, 'phi_blocked');
  assert.deepEqual(finished.body.findings.map((f) => [f.type, f.begin, f.end, f.across_messages]), [['ssn', 0, 4, true]]);
  // Starting: a post whose next one is "4320" cannot be edited into the first half.
  const second = await post(users.ana, blocked.id, 'thread two', {});
  const before = await post(users.ben, blocked.id, 'see below', { parent_id: second.id });
  await post(users.ben, blocked.id, '4320', { parent_id: second.id });
  const started = await patch(users.ben, before.id, 'her ssn is 987-65-');
  assert.equal(started.status, 422, started.text);
  assert.deepEqual(started.body.findings.map((f) => [f.type, f.begin, f.end, f.across_messages]), [['ssn', 11, 18, true]]);
  // Both stay as they were; an edit that continues nothing goes through.
  const thread = (await users.ben.get(`/api/v1/messages/${second.id}/thread`)).body;
  const replies = (thread.replies ?? thread.items ?? []).map((m) => m.body);
  assert.ok(replies.includes('see below') && replies.includes('4320'), JSON.stringify(thread));
  // The composer's check of an edit reads it the same way, and only for its author.
  const check = (client, body, message_id) => client.post(`/api/v1/spaces/${blocked.id}/phi-check`, { body, message_id });
  const previewed = await check(users.ben, 'her ssn is 987-65-', before.id);
  assert.equal(previewed.status, 200, previewed.text);
  assert.equal(previewed.body.action, 'block');
  assert.deepEqual(previewed.body.findings.map((f) => [f.type, f.begin, f.end, f.across_messages]), [['ssn', 11, 18, true]]);
  assert.equal((await check(users.ben, 'see below, thanks', before.id)).body.action, 'allow');
  const notHers = await check(users.ana, 'her ssn is 987-65-', before.id);
  assert.equal(notHers.status, 404, notHers.text);
  assert.ok(notHers.headers.get('content-type').startsWith('application/problem+json'));
  const elsewhere = await users.ben.post(`/api/v1/spaces/${redacted.id}/phi-check`, { body: 'x', message_id: before.id });
  assert.equal(elsewhere.status, 404, elsewhere.text);
  const fine = await patch(users.ben, before.id, 'see below, thanks');
  assert.equal(fine.status, 200, fine.text);
});

test('a reply is read after the post it answers: "what\'s her dob?" makes another author\'s "3/4/1950" a date', async () => {
  const root = await post(users.ana, blocked.id, 'bay 5 admission');
  await post(users.ana, blocked.id, "what's her dob?", { parent_id: root.id });
  // Ben's answer: the composer's preview says so first ...
  const preview = await users.ben.post(`/api/v1/spaces/${blocked.id}/phi-check`, { body: '3/4/1950', parent_id: root.id });
  assert.equal(preview.status, 200, preview.text);
  assert.equal(preview.body.action, 'block');
  assert.deepEqual(preview.body.findings.map((f) => [f.type, f.field, f.begin, f.end, f.across_messages, f.in_reply]),
    [['date', 'body', 0, 8, true, true]]);
  // ... and the post is refused, storing nothing.
  const refused = await users.ben.post(`/api/v1/spaces/${blocked.id}/messages`, { body: '3/4/1950', parent_id: root.id });
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.body.code, 'phi_blocked');
  assert.deepEqual(refused.body.findings.map((f) => [f.type, f.begin, f.end, f.in_reply]), [['date', 0, 8, true]]);
  // Nor can he post something else and edit the answer in: the edit is read as the same reply.
  const holding = await post(users.ben, blocked.id, 'checking', { parent_id: root.id });
  const edited = await users.ben.request('PATCH', `/api/v1/messages/${holding.id}`, { body: '3/4/1950' });
  assert.equal(edited.status, 422, edited.text);
  assert.deepEqual(edited.body.findings.map((f) => [f.type, f.begin, f.end, f.across_messages]), [['date', 0, 8, true]]);
  const thread = (await users.ben.get(`/api/v1/messages/${root.id}/thread`)).body;
  const replies = (thread.replies ?? thread.items ?? []).map((m) => m.body);
  assert.deepEqual(replies.slice().sort(), ['checking', "what's her dob?"], JSON.stringify(thread));
  // A thread where nothing was asked leaves the same text alone.
  const other = await post(users.ana, blocked.id, 'bay 6 admission');
  const plain = await post(users.ben, blocked.id, '3/4/1950', { parent_id: other.id });
  assert.equal(plain.body, '3/4/1950');
  // Where PHI is redacted, the answer is taken out of the reply and the question stays as asked.
  await post(users.ana, redacted.id, 'what is his date of birth?');
  const answer = await post(users.ben, redacted.id, '3/4/1950, and he is allergic to latex');
  assert.equal(answer.body, '[REDACTED:DATE], and he is allergic to latex');
  assert.deepEqual((await bodies(users.ana, redacted.id)).slice(0, 2).reverse(),
    ['what is his date of birth?', '[REDACTED:DATE], and he is allergic to latex']);
});

test('a question held for a moderator is answered only once it is approved, and the answer is then read after it', async () => {
  const { cai } = await createUsers(server, admin, ['cai']);
  const desk = await createSpace(users.ana, { name: 'Visitors desk' });
  await addMember(users.ana, desk.id, users.ben.user.id);
  await addMember(users.ana, desk.id, cai.user.id, 'moderator');
  await assignNewVersion(officer, desk.id, 'internal-community', (d) => ({ ...d, phi: 'block', moderation: 'pre-moderation' }));
  const question = await post(users.ben, desk.id, "what's the pt's dob?");
  assert.equal(question.state, 'held');
  // Nobody else can read it yet, so it asks nothing: a date alone goes to the moderators as any post.
  const early = await users.ana.post(`/api/v1/spaces/${desk.id}/phi-check`, { body: '3/4/1950' });
  assert.equal(early.status, 200, early.text);
  assert.equal(early.body.action, 'allow', early.text);
  const approved = await cai.post(`/api/v1/messages/${question.id}/moderate`, { action: 'approve', reason: 'fine' });
  assert.equal(approved.status, 200, approved.text);
  // Approved, it is what the next post answers.
  const answer = await users.ana.post(`/api/v1/spaces/${desk.id}/messages`, { body: '3/4/1950' });
  assert.equal(answer.status, 422, answer.text);
  assert.equal(answer.body.code, 'phi_blocked');
  assert.deepEqual(answer.body.findings.map((f) => [f.type, f.begin, f.end, f.in_reply]), [['date', 0, 8, true]]);
});

test('a question edited after it was answered cannot ask for the answer, nor can a post be edited into the context of the next', async () => {
  const patch = (client, id, body) => client.request('PATCH', `/api/v1/messages/${id}`, { body });
  const root = await post(users.ana, blocked.id, 'bay 7 admission');
  const question = await post(users.ana, blocked.id, 'anything new?', { parent_id: root.id });
  await post(users.ben, blocked.id, 'one sec', { parent_id: root.id });
  await post(users.ben, blocked.id, '3/4/1950', { parent_id: root.id });
  // The composer's check of the edit says so first, and the edit is refused: the question keeps its words.
  const check = await users.ana.post(`/api/v1/spaces/${blocked.id}/phi-check`,
    { body: "what's her dob?", message_id: question.id });
  assert.equal(check.status, 200, check.text);
  assert.equal(check.body.action, 'block');
  assert.deepEqual(check.body.findings.map((f) => [f.type, f.begin, f.end, f.across_messages, f.before_next, f.in_reply]),
    [['date', 0, 15, true, true, undefined]]);
  const refused = await patch(users.ana, question.id, "what's her dob?");
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.body.code, 'phi_blocked');
  assert.deepEqual(refused.body.findings.map((f) => [f.type, f.before_next]), [['date', true]]);
  const replies = async (id) => {
    const thread = (await users.ana.get(`/api/v1/messages/${id}/thread`)).body;
    return (thread.replies ?? thread.items ?? []).map((m) => m.body).sort();
  };
  assert.deepEqual(await replies(root.id), ['3/4/1950', 'anything new?', 'one sec']);
  // An edit that asks for nothing the answer holds goes through.
  assert.equal((await patch(users.ana, question.id, 'anything new on the labs?')).status, 200);
  // The author's own: "ok" above their "3/4/1950" cannot become "her dob is".
  const mine = await post(users.ben, blocked.id, 'bay 8 admission');
  const ok = await post(users.ben, blocked.id, 'ok', { parent_id: mine.id });
  await post(users.ben, blocked.id, '3/4/1950', { parent_id: mine.id });
  const own = await patch(users.ben, ok.id, 'her dob is');
  assert.equal(own.status, 422, own.text);
  assert.deepEqual(own.body.findings.map((f) => [f.type, f.begin, f.end, f.before_next]), [['date', 0, 10, true]]);
  assert.deepEqual(await replies(mine.id), ['3/4/1950', 'ok']);
});

test('the next post is read after what the conversation says now: edits, deletions and take-downs count', async () => {
  const patch = (client, id, body) => client.request('PATCH', `/api/v1/messages/${id}`, { body });
  // Edited into a question before anyone answered: the answer is read after the question as edited.
  const first = await post(users.ana, blocked.id, 'bay 9 admission');
  const asked = await post(users.ana, blocked.id, 'anything new?', { parent_id: first.id });
  assert.equal((await patch(users.ana, asked.id, "what's her dob?")).status, 200);
  const answer = await users.ben.post(`/api/v1/spaces/${blocked.id}/messages`, { body: '3/4/1950', parent_id: first.id });
  assert.equal(answer.status, 422, answer.text);
  assert.deepEqual(answer.body.findings.map((f) => [f.type, f.in_reply]), [['date', true]]);
  // An author's own post edited into the first half of an identifier is what their next one continues.
  const second = await post(users.ana, blocked.id, 'bay 10 admission');
  const half = await post(users.ben, blocked.id, 'noted', { parent_id: second.id });
  assert.equal((await patch(users.ben, half.id, 'her ssn is 987-65-')).status, 200);
  const rest = await users.ben.post(`/api/v1/spaces/${blocked.id}/messages`, { body: '4320', parent_id: second.id });
  assert.equal(rest.status, 422, rest.text);
  assert.deepEqual(rest.body.findings.map((f) => [f.type, f.across_messages]), [['ssn', true]]);
  // Deleting a post in between does not hide the half before it ...
  const junk = await post(users.ben, blocked.id, 'brb', { parent_id: second.id });
  assert.equal((await users.ben.request('DELETE', `/api/v1/messages/${junk.id}`)).status, 204);
  const again = await users.ben.post(`/api/v1/spaces/${blocked.id}/messages`, { body: '4320', parent_id: second.id });
  assert.equal(again.status, 422, again.text);
  // ... and a question deleted before it was answered asks nothing any more.
  const third = await post(users.ana, blocked.id, 'bay 11 admission');
  const gone = await post(users.ana, blocked.id, "what's her dob?", { parent_id: third.id });
  assert.equal((await users.ana.request('DELETE', `/api/v1/messages/${gone.id}`)).status, 204);
  const unasked = await users.ben.post(`/api/v1/spaces/${blocked.id}/messages`, { body: '3/4/1950', parent_id: third.id });
  assert.equal(unasked.status, 201, unasked.text);
});

test('a question a moderator takes down asks nothing any more', async () => {
  const { dee } = await createUsers(server, admin, ['dee']);
  const ward = await createSpace(users.ana, { name: 'Ward 4' });
  await addMember(users.ana, ward.id, users.ben.user.id);
  await addMember(users.ana, ward.id, dee.user.id, 'moderator');
  await assignNewVersion(officer, ward.id, 'internal-community', (d) => ({ ...d, phi: 'block', moderation: 'post-moderation' }));
  const question = await post(users.ben, ward.id, "what's the pt's dob?");
  assert.equal(question.state, 'published');

  const before = await users.ana.post(`/api/v1/spaces/${ward.id}/phi-check`, { body: '3/4/1950' });
  assert.equal(before.body.action, 'block', before.text);
  const hidden = await dee.post(`/api/v1/messages/${question.id}/moderate`, { action: 'hide', reason: 'asks for PHI' });
  assert.equal(hidden.status, 200, hidden.text);
  const answer = await users.ana.post(`/api/v1/spaces/${ward.id}/messages`, { body: '3/4/1950' });
  assert.equal(answer.status, 201, answer.text);
});
