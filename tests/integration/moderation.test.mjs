// Moderation against the real server: nothing of a held, hidden or deleted message reaches a member
// who cannot see it (live, on replay, or through a reply, a reaction, a vote, a pin or an accepted
// answer); appeals undo only the decision appealed, never one that still stands, and are never
// decided by the one who appealed; a suspension stops every kind of addition; pre-moderation
// reviews edits too; moderators' reasons reach the audit trail without PHI; and a space that
// patients will see is not given to them with PHI in its name.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createUsers, createSpace, addMember, createOfficer, assignNewVersion } from './fixtures.mjs';

const SSN = '987-65-4321';
let server, admin, users, officer, held, premod;

test.before(async () => {
  ({ server, admin } = await startServer());
  users = await createUsers(server, admin, ['olu', 'mo', 'pat', 'rae']);
  officer = await createOfficer(server, admin);
  // `held`: PHI is held for review; `premod`: every post is.
  held = await createSpace(users.olu, { name: 'Wound care huddle' });
  premod = await createSpace(users.olu, { name: 'Family questions' });
  for (const space of [held, premod]) {
    await addMember(users.olu, space.id, users.mo.user.id, 'moderator');
    await addMember(users.olu, space.id, users.pat.user.id);
    await addMember(users.olu, space.id, users.rae.user.id);
  }
  await assignNewVersion(officer, held.id, 'internal-community', (d) => ({ ...d, phi: 'hold' }));
  await assignNewVersion(officer, premod.id, 'internal-community', (d) => ({ ...d, moderation: 'pre-moderation' }));
});

test.after(async () => {
  await server?.stop();
  server?.cleanup();
});

async function post(client, spaceId, body) {
  const res = await client.post(`/api/v1/spaces/${spaceId}/messages`, body);
  assert.ok(res.status === 201 || res.status === 200, `${res.status} ${res.text}`);
  return res.body;
}

async function moderate(client, messageId, action, reason = 'does not belong here', extra = {}) {
  const res = await client.post(`/api/v1/messages/${messageId}/moderate`, { action, reason, ...extra });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function appealAndDecide(author, decider, actionId, outcome = 'reversed') {
  assert.equal((await author.post(`/api/v1/moderation/actions/${actionId}/appeal`, { text: 'please look again' })).status, 200);
  const decided = await decider.post(`/api/v1/moderation/actions/${actionId}/decide`, { outcome, reason: 'looked again' });
  assert.equal(decided.status, 200, decided.text);
}

// Every frame `client` is sent for the space when it resumes from the start, and the live frames
// it got until a clean marker posted last arrived.
async function framesSeenBy(client, spaceId, live, marker) {
  await live.waitFor((f) => f.event === 'message.created' && f.data.body === marker);
  const replay = await client.openEvents();
  replay.send({ type: 'resume', cursors: { [spaceId]: 0 } });
  await replay.waitFor((f) => f.event === 'message.created' && f.data?.body === marker);
  const frames = [...live.events(spaceId), ...replay.events(spaceId)];
  await replay.close();
  return frames;
}

test('nothing of a held message reaches the members: not its reactions, votes, pin, accepted answer or replies', async () => {
  const rae = await users.rae.openEvents();
  rae.send({ type: 'resume', cursors: { [held.id]: (await users.rae.get(`/api/v1/spaces/${held.id}`)).body.last_seq } });
  await rae.waitFor((f) => f.type === 'resumed');
  const mo = await users.mo.openEvents();
  mo.send({ type: 'resume', cursors: { [held.id]: (await users.mo.get(`/api/v1/spaces/${held.id}`)).body.last_seq } });
  await mo.waitFor((f) => f.type === 'resumed');

  const poll = await post(users.pat, held.id, { kind: 'poll', title: 'Which day', body: 'pick one', poll_options: ['Monday', `Tuesday, SSN ${SSN}`] });
  assert.equal(poll.state, 'held');
  assert.equal((await users.pat.post(`/api/v1/messages/${poll.id}/poll-vote`, { option: 1 })).status, 200);
  assert.equal((await users.pat.put(`/api/v1/messages/${poll.id}/reactions/%F0%9F%91%8D`)).status, 200);
  assert.equal((await users.mo.put(`/api/v1/messages/${poll.id}/pin`)).status, 200);

  const question = await post(users.pat, held.id, { kind: 'question', title: `About SSN ${SSN}`, body: 'who has the chart?' });
  assert.equal(question.state, 'held');
  // A reply to it is refused as a reply to nothing (no one learns it exists), its author's too.
  for (const client of [users.rae, users.pat]) {
    const reply = await client.post(`/api/v1/spaces/${held.id}/messages`, { parent_id: question.id, body: 'I have it' });
    assert.equal(reply.status, 400, reply.text);
    assert.equal(reply.body.code, 'invalid_parent');
  }
  const missing = await users.rae.post(`/api/v1/spaces/${held.id}/messages`, { parent_id: 999999, body: 'I have it' });
  assert.deepEqual([missing.status, missing.body.code], [400, 'invalid_parent']);

  await post(users.olu, held.id, { body: 'marker one' });
  const frames = await framesSeenBy(users.rae, held.id, rae, 'marker one');
  for (const f of frames) {
    assert.ok(!JSON.stringify(f).includes(SSN), `a member was sent the held message's PHI: ${JSON.stringify(f)}`);
    const about = f.event?.startsWith('message.') || f.event === 'answer.accepted' ? f.data?.id
      : ['reaction.changed', 'vote.changed', 'poll.changed'].includes(f.event) ? f.data?.message_id : undefined;
    assert.ok(about === undefined || ![poll.id, question.id].includes(about), `a member was sent ${f.event} about a held message`);
  }
  assert.ok(frames.some((f) => f.event === 'restricted'), 'members get placeholders for what they may not see');
  // Its author and the moderators are sent what happened to it.
  const pinned = await mo.waitFor((f) => f.event === 'message.pinned' && f.data.id === poll.id);
  assert.equal(pinned.data.state, 'held');
  await mo.waitFor((f) => f.event === 'poll.changed' && f.data.message_id === poll.id);
  await rae.close();
  await mo.close();
});

test('an answer is accepted only when it and its question are published', async () => {
  const question = await post(users.pat, held.id, { kind: 'question', title: 'Dressing change', body: 'how often?' });
  const answer = await post(users.rae, held.id, { parent_id: question.id, body: 'Every two days' });
  assert.equal(answer.state, 'published');
  const heldAnswer = await post(users.rae, held.id, { parent_id: question.id, body: `Ask about SSN ${SSN}` });
  assert.equal(heldAnswer.state, 'held');
  const refused = await users.mo.post(`/api/v1/messages/${heldAnswer.id}/accept`);
  assert.deepEqual([refused.status, refused.body.code], [409, 'not_published']);
  const accepted = await users.pat.post(`/api/v1/messages/${answer.id}/accept`);
  assert.equal(accepted.status, 200, accepted.text);
  assert.equal(accepted.body.accepted_answer_id, answer.id);
});

test('a held post taken down and then reinstated on appeal is held again, not published', async () => {
  const m = await post(users.pat, held.id, { body: `Call about SSN ${SSN}` });
  assert.equal(m.state, 'held');
  const hidden = await moderate(users.mo, m.id, 'hide');
  await appealAndDecide(users.pat, users.olu, hidden.id);
  assert.equal((await users.rae.get(`/api/v1/messages/${m.id}`)).status, 404, 'members still cannot read it');
  const seen = await users.mo.get(`/api/v1/messages/${m.id}`);
  assert.equal(seen.body.state, 'held');
  const queue = await users.mo.get(`/api/v1/moderation/queue?space_id=${held.id}`);
  assert.ok(queue.body.items.some((i) => i.message.id === m.id), 'it is back in the queue');
});

test('an appeal is never decided by the one who appealed, even a moderator', async () => {
  const m = await post(users.mo, held.id, { body: 'moderators post too' });
  const removed = await moderate(users.olu, m.id, 'remove');
  assert.equal((await users.mo.post(`/api/v1/moderation/actions/${removed.id}/appeal`, { text: 'mine was fine' })).status, 200);
  const own = await users.mo.post(`/api/v1/moderation/actions/${removed.id}/decide`, { outcome: 'reversed', reason: 'it was fine' });
  assert.deepEqual([own.status, own.body.code], [403, 'own_appeal']);
  assert.equal((await users.olu.get(`/api/v1/messages/${m.id}`)).body.state, 'removed');
});

test('reversing one decision leaves a later one standing', async () => {
  const m = await post(users.rae, held.id, { body: 'an ordinary note' });
  const hide = await moderate(users.mo, m.id, 'hide');
  await moderate(users.olu, m.id, 'remove');
  await appealAndDecide(users.rae, users.olu, hide.id);
  assert.equal((await users.mo.get(`/api/v1/messages/${m.id}`)).body.state, 'removed', 'the removal still stands');
  assert.equal((await users.pat.get(`/api/v1/messages/${m.id}`)).status, 404);

  // A longer suspension stands when a shorter one follows, and lifting the shorter lifts nothing.
  const target = await post(users.rae, held.id, { body: 'another note' });
  await moderate(users.olu, target.id, 'suspend', 'repeated off-topic posts');
  const shorter = await moderate(users.mo, target.id, 'suspend', 'off-topic', { suspend_days: 1 });
  await appealAndDecide(users.rae, users.olu, shorter.id);
  const refused = await users.rae.post(`/api/v1/spaces/${held.id}/messages`, { body: 'back again' });
  assert.deepEqual([refused.status, refused.body.code], [403, 'suspended']);
});

test('a suspended member can neither edit nor react nor vote', async () => {
  const space = await createSpace(users.olu, { name: 'Night shift' });
  await addMember(users.olu, space.id, users.pat.user.id);
  const mine = await post(users.pat, space.id, { body: 'first note' });
  const other = await post(users.olu, space.id, { body: 'a note to react to' });
  await moderate(users.olu, mine.id, 'suspend', 'spam', { suspend_days: 2 });
  for (const res of [
    await users.pat.patch(`/api/v1/messages/${mine.id}`, { body: 'changed after the suspension' }),
    await users.pat.put(`/api/v1/messages/${other.id}/reactions/%F0%9F%91%8D`),
  ]) {
    assert.deepEqual([res.status, res.body.code], [403, 'suspended']);
  }
  assert.equal((await users.olu.get(`/api/v1/messages/${mine.id}`)).body.body, 'first note');
});

test('what a moderator hides, or an author deletes, is not replayed to members', async () => {
  const rae = await users.rae.openEvents();
  rae.send({ type: 'resume', cursors: { [held.id]: (await users.rae.get(`/api/v1/spaces/${held.id}`)).body.last_seq } });
  await rae.waitFor((f) => f.type === 'resumed');
  const hidden = await post(users.pat, held.id, { body: 'rude words here' });
  await users.pat.patch(`/api/v1/messages/${hidden.id}`, { body: 'even ruder words here' });
  await moderate(users.mo, hidden.id, 'hide');
  const deleted = await post(users.pat, held.id, { body: 'posted by mistake' });
  assert.equal((await users.pat.patch(`/api/v1/messages/${deleted.id}`, { body: 'posted by mistake, edited' })).status, 200);
  assert.equal((await users.pat.del(`/api/v1/messages/${deleted.id}`)).status, 204);
  // Its versions went with it, for its author too.
  assert.equal((await users.pat.get(`/api/v1/messages/${deleted.id}/history`)).status, 404);
  await post(users.olu, held.id, { body: 'marker two' });
  await rae.waitFor((f) => f.event === 'message.created' && f.data.body === 'marker two');
  await rae.close();

  const replayed = async (client) => {
    const stream = await client.openEvents();
    stream.send({ type: 'resume', cursors: { [held.id]: 0 } });
    await stream.waitFor((f) => f.event === 'message.created' && f.data?.body === 'marker two');
    const text = JSON.stringify(stream.events(held.id));
    await stream.close();
    return text;
  };
  const member = await replayed(users.rae);
  for (const words of ['rude words', 'posted by mistake']) assert.ok(!member.includes(words), `replayed to a member: ${words}`);
  assert.ok(member.includes('"message.hidden"') && member.includes('"message.deleted"'));
  const moderator = await replayed(users.mo);
  assert.ok(moderator.includes('even ruder words here'), 'the moderators keep what they took down');
  assert.ok(!moderator.includes('posted by mistake'), 'a deleted message is gone for everyone');
});

test('an edit in a pre-moderated space goes back to the moderators', async () => {
  const m = await post(users.rae, premod.id, { body: 'When are visiting hours?' });
  assert.equal(m.state, 'held');
  await moderate(users.mo, m.id, 'approve', 'fine');
  assert.equal((await users.pat.get(`/api/v1/messages/${m.id}`)).status, 200);
  const edited = await users.rae.patch(`/api/v1/messages/${m.id}`, { body: 'Buy cheap pills at spam.example' });
  assert.equal(edited.status, 200, edited.text);
  assert.equal(edited.body.state, 'held');
  assert.equal((await users.pat.get(`/api/v1/messages/${m.id}`)).status, 404);
});

test('moderators\' and template officers\' reasons reach the audit trail without PHI', async () => {
  const m = await post(users.pat, held.id, { body: 'please call me' });
  const hide = await moderate(users.mo, m.id, 'hide', `mentions a patient, SSN ${SSN}`);
  assert.equal((await users.pat.post(`/api/v1/moderation/actions/${hide.id}/appeal`, { text: 'no it does not' })).status, 200);
  assert.equal((await users.olu.post(`/api/v1/moderation/actions/${hide.id}/decide`,
    { outcome: 'upheld', reason: `it does, see SSN ${SSN}` })).status, 200);
  const space = await createSpace(users.olu, { name: 'Rounds notes' });
  const assigned = await officer.post(`/api/v1/spaces/${space.id}/template`,
    { key: 'internal-community', version: 1, reason: `asked for by the unit, re SSN ${SSN}` });
  assert.equal(assigned.status, 200, assigned.text);
  for (const action of ['moderation.hide', 'moderation.appeal_decide', 'template.assign']) {
    const { items } = (await officer.get(`/api/v1/audit?action=${action}&limit=200`)).body;
    const record = items.find((r) => r.reason.includes('[REDACTED:'));
    assert.ok(record, `${action}: a redacted reason`);
    assert.ok(items.every((r) => !JSON.stringify(r).includes(SSN)), `${action}: PHI on the audit trail`);
  }
  // The decision the author reads keeps the moderator's words but not the PHI in them: in a
  // forum, the author may be a patient reading about someone else.
  const mine = (await users.pat.get('/api/v1/me/moderation')).body.items.find((a) => a.id === hide.id);
  assert.ok(!mine.reason.includes(SSN), mine.reason);
  assert.match(mine.reason, /^mentions a patient, SSN \[REDACTED:/);
});

test('a space whose name carries PHI is not handed to patients', async () => {
  const space = await createSpace(users.olu, { name: 'Follow-up for MRN 12345678', topic: 'call 617-555-0123' });
  const refused = await officer.post(`/api/v1/spaces/${space.id}/template`, { key: 'patient-forum', version: 1, reason: 'open it up' });
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.body.code, 'phi_blocked');
  assert.ok(refused.headers.get('content-type').startsWith('application/problem+json'));
  assert.equal((await users.olu.get(`/api/v1/spaces/${space.id}`)).body.template.key, 'internal-community');
});

test('an approval is given once, publishes what the post mentions, and the author never learns who decided', async () => {
  const rae = await users.rae.openEvents();
  const pat = await users.pat.openEvents();
  const m = await post(users.pat, premod.id, { body: 'Thank you @rae for the handover' });
  assert.equal(m.state, 'held');
  const [first, second] = await Promise.all([
    users.mo.post(`/api/v1/messages/${m.id}/moderate`, { action: 'approve', reason: 'fine' }),
    users.olu.post(`/api/v1/messages/${m.id}/moderate`, { action: 'approve', reason: 'fine too' }),
  ]);
  assert.deepEqual([first.status, second.status].sort(), [200, 409], `${first.text} ${second.text}`);
  const again = await users.mo.post(`/api/v1/messages/${m.id}/moderate`, { action: 'approve', reason: 'again' });
  assert.deepEqual([again.status, again.body.code], [409, 'not_pending']);
  const mention = await rae.waitFor((f) => f.type === 'mention' || (f.event === 'mention'));
  assert.equal((mention.data ?? mention).message_id, m.id);
  const decision = await pat.waitFor((f) => f.type === 'moderation.action' || f.event === 'moderation.action');
  const data = decision.data ?? decision;
  assert.equal(data.action, 'approve');
  assert.equal(data.moderator_id, undefined, 'the author is told the decision, not who made it');
  await rae.close();
  await pat.close();

  // The same for an appeal's answer and the list of one's own decisions.
  const hidden = await moderate(users.mo, (await post(users.pat, held.id, { body: 'a plain note' })).id, 'hide');
  const appealed = await users.pat.post(`/api/v1/moderation/actions/${hidden.id}/appeal`, { text: 'why?' });
  assert.equal(appealed.body.moderator_id, undefined);
  await users.olu.post(`/api/v1/moderation/actions/${hidden.id}/decide`, { outcome: 'upheld', reason: 'stands' });
  const mine = (await users.pat.get('/api/v1/me/moderation')).body.items.find((a) => a.id === hidden.id);
  assert.equal(mine.appeal.outcome, 'upheld');
  assert.equal(mine.appeal.decided_by, undefined);
  assert.equal(mine.moderator_id, undefined);
});

test('a compliance officer acts on what their queue shows, in private spaces too', async () => {
  const space = await createSpace(users.olu, { name: 'Private huddle', kind: 'channel', visibility: 'private' });
  await addMember(users.olu, space.id, users.pat.user.id);
  await assignNewVersion(officer, space.id, 'internal-community', (d) => ({ ...d, phi: 'hold' }));
  const m = await post(users.pat, space.id, { body: `Chart for SSN ${SSN}` });
  assert.equal(m.state, 'held');
  const queue = await officer.get('/api/v1/moderation/queue');
  assert.ok(queue.body.items.some((i) => i.message.id === m.id));
  const own = await officer.get(`/api/v1/moderation/queue?space_id=${space.id}`);
  assert.equal(own.status, 200, own.text);
  assert.ok(own.body.items.some((i) => i.message.id === m.id));
  const removed = await officer.post(`/api/v1/messages/${m.id}/moderate`, { action: 'remove', reason: 'PHI in a staff channel' });
  assert.equal(removed.status, 200, removed.text);
  assert.equal((await officer.get(`/api/v1/moderation/actions?space_id=${space.id}`)).status, 200);
  // Others who cannot read the space still learn nothing of it.
  const outsider = await users.rae.post(`/api/v1/messages/${m.id}/moderate`, { action: 'approve', reason: 'x' });
  assert.equal(outsider.status, 404);
});

test('a reaction is an emoji and carries no text', async () => {
  const m = await post(users.olu, held.id, { body: 'react to me' });
  // Letters in boxes and regional indicators spell a name as well as letters do.
  for (const text of ['55509876', 'Zo%C3%AB', 'ok', '%2B1', encodeURIComponent('🅶🅰🆁🅲🅸🅰'), encodeURIComponent('🇬🇦🇷🇨')]) {
    const res = await users.olu.put(`/api/v1/messages/${m.id}/reactions/${text}`);
    assert.deepEqual([res.status, res.body.code], [400, 'invalid_emoji'], text);
  }
  for (const emoji of ['👍', '❤️', '👩‍⚕️', '1️⃣']) {
    const res = await users.olu.put(`/api/v1/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`);
    assert.equal(res.status, 200, `${emoji}: ${res.text}`);
  }
});

test('refused moderation requests are on the audit trail, and moderators see reports and appeals arrive', async () => {
  const queue = await users.rae.get(`/api/v1/moderation/queue?space_id=${held.id}`);
  assert.deepEqual([queue.status, queue.body.code], [403, 'moderator_required']);
  const actions = await users.rae.get(`/api/v1/moderation/actions?space_id=${held.id}`);
  assert.deepEqual([actions.status, actions.body.code], [403, 'moderator_required']);
  // Across spaces, the actions of the spaces one moderates: none for rae.
  const across = await users.rae.get('/api/v1/moderation/actions?pending_appeals=true');
  assert.equal(across.status, 200, across.text);
  assert.deepEqual(across.body.items, []);
  const target = await post(users.olu, held.id, { body: 'an owner note' });
  const warned = await moderate(users.mo, target.id, 'warn');
  const notMine = await users.pat.post(`/api/v1/moderation/actions/${warned.id}/appeal`, { text: 'not mine to appeal' });
  assert.equal(notMine.status, 404);
  for (const [action, user] of [['moderation.queue', users.rae], ['moderation.actions', users.rae], ['moderation.appeal', users.pat]]) {
    const { items } = (await officer.get(`/api/v1/audit?action=${action}&outcome=denied&limit=50`)).body;
    assert.ok(items.some((r) => r.actor_id === user.user.id), `${action}: the refusal is recorded`);
  }

  const mo = await users.mo.openEvents();
  const reported = await post(users.pat, held.id, { body: 'buy my bike' });
  assert.equal((await users.olu.post(`/api/v1/messages/${reported.id}/report`, { reason: 'selling things' })).status, 201);
  const report = await mo.waitFor((f) => f.event === 'moderation.queue' && f.data.kind === 'report');
  assert.equal(report.data.message_id, reported.id);
  assert.deepEqual(Object.keys(report.data).sort(), ['kind', 'message_id', 'space_id'], 'the reporter is not named');
  assert.equal((await users.olu.post(`/api/v1/moderation/actions/${warned.id}/appeal`, { text: 'I was right' })).status, 200);
  const appeal = await mo.waitFor((f) => f.event === 'moderation.queue' && f.data.kind === 'appeal');
  assert.equal(appeal.data.action_id, warned.id);
  await mo.close();
});
