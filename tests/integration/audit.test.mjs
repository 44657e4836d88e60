// The audit trail end to end: sign-ins (good and bad) and administration are recorded; a compliance
// officer searches, verifies and exports (CSV, NDJSON, FHIR Bundle); others are refused and the
// refusal is recorded; after the server stops, `rounds audit verify` says ok — and after the
// database file is tampered with, names the first bad record and exits 1.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../lib/server.mjs';
import { startServer, createUsers, createSpace, addMember, PASSWORD } from './fixtures.mjs';

let server, admin, users, officer;

test.before(async () => {
  // Checkpoints every second, so the running server anchors what the tests do.
  // A plain database (encryption off, as in a data folder made before it existed): the last test
  // edits it with the sqlite3 tool, as whoever held the file and its key could.
  // What sockets are sent live is recorded two seconds after the first event, and at the close.
  ({ server, admin } = await startServer({
    env: { ROUNDS_AUDIT_CHECKPOINT_SECONDS: '1', ROUNDS_DATABASE_ENCRYPTION: 'false', ROUNDS_AUDIT_LIVE_READ_SECONDS: '2' },
  }));
  users = await createUsers(server, admin, ['rhea', 'sol']);
  const created = await admin.post('/api/v1/users', {
    username: 'tess', display_name: 'Tess Compliance', email: 'tess@example.org',
    job_role: 'Privacy Officer', password: PASSWORD, is_compliance: true,
  });
  assert.equal(created.status, 201, created.text);
  officer = server.client();
  await officer.login('tess', PASSWORD);
  // A wrong password for an account, and a name that is no account.
  const c = server.client();
  assert.equal((await c.post('/api/v1/auth/login', { username: 'rhea', password: 'not-the-password-at-all' })).status, 401);
  assert.equal((await c.post('/api/v1/auth/login', { username: 'ghost-user-name', password: 'whatever-it-is' })).status, 401);
});

// Starts a verification and waits for its verdict.
async function verifyNow() {
  const started = await officer.post('/api/v1/audit/verify');
  assert.equal(started.status, 202, started.text);
  let res = started;
  for (let i = 0; i < 100 && (res.body.running || res.body.started_at !== started.body.running_since); i++) {
    await new Promise((r) => setTimeout(r, 100));
    res = await officer.get('/api/v1/audit/verify');
  }
  return res;
}

test.after(async () => {
  await server.stop();
  server.cleanup();
});

test('sign-ins, failures and administration are on the trail, without the unknown name', async () => {
  const res = await officer.get('/api/v1/audit?action=auth.login&limit=200');
  assert.equal(res.status, 200, res.text);
  const items = res.body.items;
  const seqs = items.map((r) => r.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
  const rhea = users.rhea.user.id;
  assert.ok(items.some((r) => r.outcome === 'success' && r.actor_id === rhea));
  assert.ok(items.some((r) => r.outcome === 'failure' && r.reason === 'wrong_password' && r.object_id === String(rhea)));
  const unknown = items.find((r) => r.reason === 'unknown_user');
  assert.ok(unknown, 'the unknown-user failure is recorded');
  assert.equal(unknown.object_id, '');
  assert.ok(!JSON.stringify(res.body).includes('ghost-user-name'), 'a name that is no account is never recorded');
  assert.ok(!JSON.stringify(res.body).includes('not-the-password'), 'no password is ever recorded');

  // Each actor is named as the account is named now; the unknown name's failure has no actor.
  const signedIn = items.find((r) => r.outcome === 'success' && r.actor_id === rhea);
  assert.deepEqual([signedIn.actor.username, signedIn.actor.display_name], ['rhea', users.rhea.user.display_name]);
  assert.equal(unknown.actor, null);

  const created = await officer.get(`/api/v1/audit?action=user.create&object_type=user`);
  assert.equal(created.status, 200);
  const made = created.body.items.find((r) => r.object_id === String(rhea) && r.actor_id === admin.user.id);
  assert.equal(made.actor.username, admin.user.username);
  const compliance = created.body.items.find((r) => r.object_id === String(officer.user.id));
  assert.equal(compliance.details.is_compliance, true);

  // Filters combine: one actor, failures only, and a time window.
  const failures = await officer.get(`/api/v1/audit?outcome=failure&from=0&to=${Date.now() + 60_000}`);
  assert.ok(failures.body.items.length >= 2);
  assert.ok(failures.body.items.every((r) => r.outcome === 'failure'));
  const page = await officer.get('/api/v1/audit?limit=2');
  assert.equal(page.body.items.length, 2);
  const next = await officer.get(`/api/v1/audit?limit=2&cursor=${page.body.next_cursor}`);
  assert.ok(next.body.items[0].seq < page.body.items[1].seq);
  assert.equal((await officer.get('/api/v1/audit?outcome=maybe')).status, 400);
});

test('a filter that is not UTF-8 is a bad request, not a server error, for anyone', async () => {
  // Every search and every refusal records its filters on the trail, as JSON; a percent-escape
  // that decodes to bytes that are not UTF-8 used to fail that record with a 500.
  for (const client of [officer, users.sol]) {
    for (const q of ['action=%FF', 'object_type=caf%C3', 'object_id=%C3%28']) {
      const res = await client.get(`/api/v1/audit?${q}`);
      assert.equal(res.status, 400, `${q}: ${res.text}`);
      assert.equal(res.body.code, 'bad_target');
    }
  }
  const long = await officer.get(`/api/v1/audit?object_id=${'a'.repeat(201)}`);
  assert.equal(long.status, 400, long.text);
  assert.equal(long.body.code, 'invalid_value');
  assert.equal((await officer.get('/api/v1/audit?action=caf%C3%A9')).status, 200);
});

test('only compliance officers may read the trail; refusals are recorded', async () => {
  for (const [who, client] of [['admin', admin], ['staff', users.sol]]) {
    for (const p of ['/api/v1/audit', '/api/v1/audit/verify', '/api/v1/audit/export?format=csv',
      '/api/v1/audit/proof/inclusion?seq=1', '/api/v1/audit/proof/consistency?from=1']) {
      const res = await client.get(p);
      assert.equal(res.status, 403, `${who} ${p}`);
      assert.equal(res.body.code, 'compliance_required');
    }
  }
  assert.equal((await server.client().get('/api/v1/audit')).status, 401);
  const denied = await officer.get(`/api/v1/audit?action=audit.&outcome=denied&actor_id=${users.sol.user.id}`);
  assert.deepEqual(denied.body.items.map((r) => r.action).sort(),
    ['audit.export', 'audit.proof', 'audit.proof', 'audit.search', 'audit.verify']);
  const uses = await officer.get(`/api/v1/audit?action=audit.search&actor_id=${officer.user.id}&outcome=success`);
  assert.ok(uses.body.items.length >= 3, 'each search is itself recorded');
});

// "Who saw this patient's information": the post that named a patient and each read of it carry
// the patient's keyed reference, and a compliance officer finds them by MRN, which no record holds.
test('a patient\'s trail: the post that named them and every read of it, found by MRN', async () => {
  const upserted = await officer.put('/api/v1/patients/MR-QX7001', { first: 'Imogen', last: 'Castellano' });
  assert.equal(upserted.status, 200, upserted.text);
  const ward = await createSpace(users.rhea, { name: 'Ward 7 handover', template: 'clinical-team', visibility: 'private' });
  await addMember(users.rhea, ward.id, users.sol.user.id);
  const posted = await users.rhea.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'castellano, imogen to CT at 3' });
  assert.equal(posted.status, 201, posted.text);
  assert.ok(!JSON.stringify(posted.body).includes('Patient/'), 'no client is told whom a message names');
  const other = await users.rhea.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'bed 9 quiet' });
  assert.equal(other.status, 201, other.text);
  assert.equal((await users.sol.get(`/api/v1/spaces/${ward.id}/messages`)).status, 200);
  assert.equal((await users.sol.get(`/api/v1/messages/${other.body.id}`)).status, 200);

  const trail = await officer.get('/api/v1/audit?patient=mr%20qx7001&limit=200');
  assert.equal(trail.status, 200, trail.text);
  const items = trail.body.items;
  const ref = items.find((r) => r.action === 'patients.upsert')?.patient_ref;
  assert.match(ref, /^Patient\/mrn-[0-9a-f]{16}$/);
  for (const r of items) assert.ok(r.patient_ref.split(' ').includes(ref), JSON.stringify(r));
  const who = items.map((r) => `${r.action} ${r.actor_id}`);
  assert.ok(who.includes(`message.create ${users.rhea.user.id}`), who.join(', '));
  assert.ok(who.includes(`message.list ${users.sol.user.id}`), who.join(', '));
  assert.ok(!who.includes(`message.read ${users.sol.user.id}`), 'reading "bed 9 quiet" alone is not on her trail');
  assert.ok(!JSON.stringify(trail.body).includes('QX7001'), 'no record holds the MRN');
  // The search itself is on her trail, by reference; so the same question by reference finds it.
  const byRef = await officer.get(`/api/v1/audit?patient_ref=${encodeURIComponent(ref)}&action=audit.search&limit=1`);
  assert.equal(byRef.status, 200, byRef.text);
  assert.equal(byRef.body.items[0].patient_ref, ref);
  assert.equal(byRef.body.items[0].details.patient_ref, ref);
  assert.ok(!JSON.stringify(byRef.body).includes('QX7001'));
  // A CSV export of the trail keeps every patient's reference.
  const csv = await officer.get('/api/v1/audit/export?format=csv');
  assert.equal(csv.status, 200);
  assert.ok(csv.text.includes(ref));

  for (const [query, param] of [['patient=---', 'patient'], ['patient_ref=Patient%2F7001', 'patient_ref'],
    [`patient=MRQX7001&patient_ref=${encodeURIComponent(ref)}`, 'patient']]) {
    const bad = await officer.get(`/api/v1/audit?${query}`);
    assert.equal(bad.status, 400, query);
    assert.match(bad.headers.get('content-type'), /application\/problem\+json/);
    assert.equal(bad.body.code, 'invalid_value', query);
    assert.equal(bad.body.field, param, JSON.stringify(bad.body));
  }
  const refused = await users.sol.get('/api/v1/audit?patient=MRQX7001');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'compliance_required');
});

// Sol's event stream, resumed with no cursors: live from now on.
async function solsStream() {
  const stream = await users.sol.openEvents();
  stream.send({ type: 'resume', cursors: {} });
  await stream.waitFor((f) => f.type === 'resumed');
  return stream;
}

// The message.live records of sol's reading of a space, newest first.
async function solsLiveReads(spaceId) {
  const res = await officer.get(`/api/v1/audit?action=message.live&actor_id=${users.sol.user.id}&object_id=${spaceId}&limit=50`);
  assert.equal(res.status, 200, res.text);
  return res.body.items;
}

// A post reaches members' open sockets without a request; in a PHI-bearing space that is a read
// too. Each socket's deliveries are recorded per space after an interval and when it closes,
// naming the patients of what it carried; a space that blocks PHI is not on the trail.
test('what a socket is sent live from a PHI-bearing space is on the reader\'s trail', async () => {
  assert.equal((await officer.put('/api/v1/patients/MR-QX7002', { first: 'Lucian', last: 'Brandvold' })).status, 200);
  const ward = await createSpace(users.rhea, { name: 'ICU huddle', template: 'clinical-team', visibility: 'private' });
  const news = await createSpace(users.rhea, { name: 'Unit news', template: 'announcements', visibility: 'private' });
  for (const space of [ward, news]) await addMember(users.rhea, space.id, users.sol.user.id);
  const liveOf = solsLiveReads;
  // The records of sol's live reads of `spaceId` once they account for `events` events, newest first.
  const waitForLive = async (spaceId, events) => {
    for (let i = 0; i < 100; i++) {
      const items = await liveOf(spaceId);
      if (items.reduce((n, r) => n + r.details.count, 0) >= events) return items;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`space ${spaceId}: fewer than ${events} events on record`);
  };

  // Closed before the interval: the close records it.
  const stream = await solsStream();
  const named = await users.rhea.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'brandvold, lucian febrile overnight' });
  assert.equal(named.status, 201, named.text);
  const quiet = await users.rhea.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'bed 3 quiet' });
  const notice = await users.rhea.post(`/api/v1/spaces/${news.id}/messages`, { body: 'The cafeteria closes early on Friday' });
  assert.equal(notice.status, 201, notice.text);
  const seqs = [];
  for (const message of [named.body, quiet.body]) {
    const frame = await stream.waitFor((f) => f.type === 'event' && f.event === 'message.created' && f.data.id === message.id);
    seqs.push(frame.seq);
  }
  await stream.waitFor((f) => f.type === 'event' && f.event === 'message.created' && f.data.id === notice.body.id);
  await stream.close();
  // One record, or two if the interval passed before the close: together, both events.
  const closed = await waitForLive(ward.id, 2);
  const trail = await officer.get('/api/v1/audit?patient=MRQX7002&action=message.&limit=50');
  const ref = trail.body.items.find((r) => r.action === 'message.create')?.patient_ref;
  assert.match(ref, /^Patient\/mrn-[0-9a-f]{16}$/);
  assert.equal(closed.reduce((n, r) => n + r.details.count, 0), 2);
  assert.deepEqual([Math.min(...closed.map((r) => r.details.from_seq)), Math.max(...closed.map((r) => r.details.to_seq))], seqs);
  for (const r of closed) {
    assert.equal(r.object_type, 'space');
    assert.ok(r.details.from <= r.details.to && r.details.to <= r.time, JSON.stringify(r));
    assert.ok(!JSON.stringify(r).includes('febrile'), 'no content on the trail');
  }
  assert.ok(closed.some((r) => r.patient_ref === ref), JSON.stringify(closed));
  assert.ok(trail.body.items.some((r) => r.action === 'message.live' && r.actor_id === users.sol.user.id),
    'found on the patient\'s trail by MRN');
  assert.deepEqual(await liveOf(news.id), [], 'a space that blocks PHI is not on the trail');

  // Left open: recorded once the interval has passed, while the socket stays open.
  const open = await solsStream();
  const later = await users.rhea.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'family meeting at 4' });
  await open.waitFor((f) => f.type === 'event' && f.data?.id === later.body.id);
  const [newest] = await waitForLive(ward.id, 3);
  assert.equal(open.ws.readyState, 1, 'recorded while the socket stays open');
  assert.equal(newest.details.count, 1);
  assert.equal(newest.patient_ref, '', 'this message names no one');
  await open.close();
});

// Before a socket's first event of a PHI-bearing space, a record that it reads the space live is
// written and waited for: a server killed before the socket's next record (the interval, or the
// close) still leaves on the trail who was reading what, from which event. Before this, such a kill
// lost every live read since the socket's last record.
test('a server killed while a socket reads a PHI-bearing space live leaves the reading on the trail', async () => {
  const ward = await createSpace(users.rhea, { name: 'Step-down unit', template: 'clinical-team', visibility: 'private' });
  await addMember(users.rhea, ward.id, users.sol.user.id);
  const stream = await solsStream();
  const post = await users.rhea.post(`/api/v1/spaces/${ward.id}/messages`, { body: 'bed 12 on a heparin drip' });
  assert.equal(post.status, 201, post.text);
  const frame = await stream.waitFor((f) => f.type === 'event' && f.event === 'message.created' && f.data.id === post.body.id);
  await server.stop('SIGKILL');
  await server.start();
  const live = await solsLiveReads(ward.id);
  assert.deepEqual(live.map((r) => [r.details.state, r.details.from_seq, r.details.count]), [['opened', frame.seq, 0]],
    JSON.stringify(live));
});

// A space that becomes PHI-bearing while a socket is open gets its opening too, before its next
// event leaves: a space found not PHI-bearing is asked again as soon as a template is assigned
// (and an interval, here 2 s, later in any case). Before, an event posted within the interval
// after the assignment left with no opening on record.
test('a socket reading a space that becomes PHI-bearing records the opening of its reading', async () => {
  const board = await createSpace(users.rhea, { name: 'Staffing board', template: 'announcements', visibility: 'private' });
  await addMember(users.rhea, board.id, users.sol.user.id);
  const stream = await solsStream();
  const liveOf = () => solsLiveReads(board.id);
  const first = await users.rhea.post(`/api/v1/spaces/${board.id}/messages`, { body: 'Two nurses short tonight' });
  assert.equal(first.status, 201, first.text);
  await stream.waitFor((f) => f.type === 'event' && f.data?.id === first.body.id);
  assert.deepEqual(await liveOf(), [], 'not PHI-bearing: nothing on the trail');
  const assigned = await officer.post(`/api/v1/spaces/${board.id}/template`, { key: 'clinical-team', version: 1, reason: 'patients are discussed here now' });
  assert.equal(assigned.status, 200, assigned.text);
  const second = await users.rhea.post(`/api/v1/spaces/${board.id}/messages`, { body: 'bed 4 needs a sitter' });
  assert.equal(second.status, 201, second.text);
  // The assignment's own event is the first the socket is sent under the new template.
  const updated = await stream.waitFor((f) => f.type === 'event' && f.event === 'space.updated');
  await stream.waitFor((f) => f.type === 'event' && f.event === 'message.created' && f.data?.id === second.body.id);
  const opened = (await liveOf()).filter((r) => r.details.state === 'opened');
  assert.deepEqual(opened.map((r) => r.details.from_seq), [updated.seq], JSON.stringify(await liveOf()));
  await stream.close();
});

test('the chain verifies in the background', async () => {
  await new Promise((r) => setTimeout(r, 1500));  // let a checkpoint be signed
  const before = await officer.get('/api/v1/audit/verify');
  assert.equal(before.status, 200, before.text);
  assert.equal(before.body.ok, null, 'no verification yet');
  assert.equal(before.body.running, false);
  assert.doesNotMatch((await server.client().get('/metrics')).text, /^rounds_audit_chain_verified /m, 'no verdict yet');

  const started = await officer.post('/api/v1/audit/verify');
  assert.equal(started.status, 202, started.text);
  let res = started;
  for (let i = 0; i < 100 && (res.body.running || res.body.ok === null); i++) {
    await new Promise((r) => setTimeout(r, 100));
    res = await officer.get('/api/v1/audit/verify');
    assert.equal(res.status, 200, res.text);
  }
  assert.equal(res.body.running, false);
  assert.equal(res.body.ok, true, res.body.problem);
  assert.ok(res.body.records_checked > 10);
  assert.ok(res.body.checkpoints_checked >= 1);
  assert.equal(res.body.first_bad_seq, null);
  assert.equal(res.body.head_seq, res.body.records_checked);
  assert.equal(res.body.started_by, officer.user.username);
  // The last signed tree, as an officer would hand it to an auditor.
  assert.match(res.body.signed_tree.root, /^[0-9a-f]{64}$/);
  assert.ok(res.body.signed_tree.size >= 1 && res.body.signed_tree.size <= res.body.head_seq);
  assert.ok(Math.abs(res.body.checked_at - Date.now()) < 60_000);
  // Metrics to alert on.
  const metrics = (await server.client().get('/metrics')).text;
  assert.match(metrics, /^rounds_audit_chain_verified 1$/m);
  assert.match(metrics, /^rounds_audit_verification_running 0$/m);
  const at = Number(metrics.match(/^rounds_audit_chain_verified_timestamp_seconds (\d+)$/m)[1]);
  assert.equal(at, Math.floor(res.body.checked_at / 1000));
  // The request and the verdict are on the trail.
  const verdicts = await officer.get('/api/v1/audit?action=audit.verified&limit=1');
  assert.equal(verdicts.body.items[0].outcome, 'success');
  const asked = await officer.get(`/api/v1/audit?action=audit.verify&actor_id=${officer.user.id}&outcome=success&limit=1`);
  assert.ok(asked.body.items[0].seq <= res.body.head_seq, 'the verdict covers its own request');
});

// RFC 9162 proofs over the trail's Merkle tree: documents the public key alone checks, with no
// access to the trail, as an auditor or a regulator would be handed them.
test('an officer is given Merkle proofs that the public key alone checks', async () => {
  // Checkpoints come every second: wait for one that covers record 2.
  let inclusion;
  let given = 0;  // proofs answered: each is on the trail
  for (let i = 0; i < 50; i++) {
    inclusion = await officer.get('/api/v1/audit/proof/inclusion?seq=2');
    if (inclusion.status === 200) given++;
    if (inclusion.body?.code !== 'record_not_in_tree') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(inclusion.status, 200, inclusion.text);
  const doc = inclusion.body;
  assert.equal(doc.kind, 'inclusion');
  assert.equal(doc.seq, 2);
  assert.equal(doc.verified, true);
  assert.match(doc.checkpoint.root, /^[0-9a-f]{64}$/);
  assert.equal(doc.checkpoint.seq, doc.tree_size);
  const record = (await officer.get('/api/v1/audit?cursor=3&limit=1')).body.items[0];
  assert.equal(record.seq, 2);
  assert.equal(doc.record_hash, record.hash, 'the proof is about the record the trail shows');

  const keyFile = path.join(server.dataDir, 'audit', 'signing.pub');
  const file = path.join(server.dataDir, 'proof.json');
  writeFileSync(file, JSON.stringify(doc));
  const checked = runCli(['audit', 'check-proof', file, '--public-key-file', keyFile]);
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /^ok: record 2 is in the signed tree of \d+ records$/m);
  writeFileSync(file, JSON.stringify({ ...doc, record_hash: doc.leaf_hash }));
  const forged = runCli(['audit', 'check-proof', file, '--public-key-file', keyFile]);
  assert.equal(forged.status, 1, forged.stdout + forged.stderr);
  assert.match(forged.stdout, /^INVALID: /);

  // A later signed tree only added records to this one.
  await server.client().login('rhea', PASSWORD);  // a record after the proof's tree
  let consistency;
  for (let i = 0; i < 50; i++) {
    consistency = await officer.get(`/api/v1/audit/proof/consistency?from=${doc.tree_size}`);
    assert.equal(consistency.status, 200, consistency.text);
    given++;
    if (consistency.body.to > doc.tree_size) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(consistency.body.to > doc.tree_size, 'a later checkpoint was signed');
  assert.equal(consistency.body.verified, true);
  assert.equal(consistency.body.from_checkpoint.root, doc.checkpoint.root);
  writeFileSync(file, JSON.stringify(consistency.body));
  const prefix = runCli(['audit', 'check-proof', file, '--public-key-file', keyFile]);
  assert.equal(prefix.status, 0, prefix.stdout + prefix.stderr);
  assert.match(prefix.stdout, /is a prefix of the signed tree/);

  // Sizes no checkpoint signed and records past the tree are refused with a stable code.
  const unsigned = await officer.get(`/api/v1/audit/proof/inclusion?seq=1&tree_size=${doc.tree_size + 1000000}`);
  assert.equal(unsigned.status, 404, unsigned.text);
  assert.equal(unsigned.body.code, 'unsigned_tree_size');
  const missing = await officer.get('/api/v1/audit/proof/inclusion');
  assert.equal(missing.status, 400, missing.text);
  assert.equal(missing.body.code, 'missing_field');
  const past = await officer.get(`/api/v1/audit/proof/inclusion?seq=${doc.tree_size + 1}&tree_size=${doc.tree_size}`);
  assert.equal(past.status, 400, past.text);
  assert.equal(past.body.code, 'record_not_in_tree');
  const recorded = await officer.get(`/api/v1/audit?action=audit.proof&actor_id=${officer.user.id}&outcome=success`);
  assert.equal(recorded.body.items.length, given, 'each proof given is on the trail');
  assert.deepEqual([...new Set(recorded.body.items.map((r) => r.details.kind))].sort(), ['consistency', 'inclusion']);
});

test('exports: CSV, NDJSON of AuditEvents, and a FHIR Bundle', async () => {
  const csv = await officer.get('/api/v1/audit/export?format=csv');
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  const rows = csv.text.trim().split('\r\n');
  assert.equal(rows[0], 'seq,time,recorded,actor_id,actor_role,action,object_type,object_id,patient_ref,outcome,address,session_hash,reason,details,prev_hash,hash');
  assert.ok(rows.length > 10);
  assert.ok(rows.some((r) => r.includes(',auth.login,') && r.includes(',wrong_password,')));

  const ndjson = await officer.get('/api/v1/audit/export?format=ndjson');
  assert.equal(ndjson.status, 200);
  assert.match(ndjson.headers.get('content-type'), /^application\/x-ndjson/);
  const events = ndjson.text.trim().split('\n').map((l) => JSON.parse(l));
  for (const e of events) {
    assert.equal(e.resourceType, 'AuditEvent');
    assert.ok(e.type && e.type.code);
    assert.match(e.action, /^[CRUDE]$/);
    assert.match(e.recorded, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(['0', '4', '8', '12'].includes(e.outcome));
    assert.ok(e.agent.length >= 1 && e.agent[0].requestor === true && e.agent[0].who);
    assert.ok(e.source && e.source.observer);
  }
  // Each event's place in the hash chain: the hash of its record, and of the one before.
  for (let i = 1; i < events.length; i++) {
    const [chain] = events[i].extension;
    assert.equal(chain.url, 'urn:rounds:audit:chain');
    assert.match(chain.extension[1].valueString, /^[0-9a-f]{64}$/);
    if (Number(events[i].id) === Number(events[i - 1].id) + 1) {
      assert.equal(chain.extension[0].valueString, events[i - 1].extension[0].extension[1].valueString);
    }
  }
  const login = events.find((e) => e.subtype.some((s) => s.code === 'auth.login') && e.outcome === '0');
  assert.equal(login.type.code, '110114');
  assert.equal(login.agent[0].network.address, '127.0.0.1');
  assert.ok(login.entity[0].what.identifier.value);
  const failed = events.find((e) => e.outcomeDesc === 'wrong_password');
  assert.equal(failed.outcome, '8');

  const bundle = await officer.get(`/api/v1/audit/export?format=fhir&from=0&to=${Date.now() + 60_000}`);
  assert.equal(bundle.status, 200);
  assert.match(bundle.headers.get('content-type'), /^application\/fhir\+json/);
  assert.equal(bundle.body.resourceType, 'Bundle');
  assert.equal(bundle.body.type, 'collection');
  assert.ok(bundle.body.entry.length > 10);
  assert.ok(bundle.body.entry.every((x) => x.resource.resourceType === 'AuditEvent'));
  // Valid FHIR R4: a collection has no total (bdl-1), and no value is an empty string.
  assert.equal(bundle.body.total, undefined);
  const empty = [];
  const walk = (v, at) => {
    if (v === '') empty.push(at);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
  };
  walk(bundle.body, 'Bundle');
  assert.deepEqual(empty, []);
  for (const { resource } of bundle.body.entry) {
    for (const field of ['type', 'recorded', 'agent', 'source']) assert.ok(resource[field], `AuditEvent.${field}`);
  }
  assert.equal((await officer.get('/api/v1/audit/export?format=xml')).status, 400);
  const exports = await officer.get('/api/v1/audit?action=audit.export&outcome=success');
  assert.ok(exports.body.items.some((r) => r.details.format === 'fhir' && r.details.count > 10));
});

// The signing key changed between two runs of the server: the first key's public half still
// checks the chain, the server's own verification and a proof of a tree the new key signed.
test('the checkpoint signing key is changed with the server stopped, and the first public key still checks all', async () => {
  const busy = runCli(['audit', 'rotate-key'], { dataDir: server.dataDir });
  assert.equal(busy.status, 2, busy.stdout + busy.stderr);
  assert.match(busy.stderr, /stop the server/);
  const publicKey = path.join(server.dataDir, 'audit', 'signing.pub');
  const firstKey = readFileSync(publicKey, 'utf8').trim();

  await server.stop();
  const rotated = runCli(['audit', 'rotate-key'], { dataDir: server.dataDir });
  assert.equal(rotated.status, 0, rotated.stdout + rotated.stderr);
  const newKey = rotated.stdout.match(/signed by ([0-9a-f]{64})/)[1];
  assert.notEqual(newKey, firstKey);
  assert.equal(readFileSync(publicKey, 'utf8').trim(), firstKey, 'the public key file keeps the first key');
  await server.start();
  // The server reads the change from the checkpoint file: the key it signs with, since the hand-over.
  const keys = await officer.get('/api/v1/audit/signing-key');
  assert.equal(keys.status, 200, keys.text);
  assert.equal(keys.body.anchor_public_key, firstKey);
  assert.equal(keys.body.public_key, newKey);
  assert.equal(keys.body.changes.length, 1);
  assert.equal(keys.body.changes[0].previous_public_key, firstKey);
  assert.equal(keys.body.changes[0].public_key, newKey);
  assert.equal(keys.body.since, keys.body.changes[0].time);

  const res = await verifyNow();
  assert.equal(res.body.running, false);
  assert.equal(res.body.ok, true, res.body.problem);
  assert.equal(res.body.key_changes, 1);
  const change = await officer.get('/api/v1/audit?action=audit.key_changed&limit=1');
  assert.equal(change.body.items.length, 1);
  assert.equal(change.body.items[0].details.public_key, newKey);
  assert.equal(change.body.items[0].details.previous_public_key, firstKey);

  // A proof against the newest signed tree (signed by the new key at start) carries the hand-over.
  const proof = await officer.get('/api/v1/audit/proof/inclusion?seq=2');
  assert.equal(proof.status, 200, proof.text);
  assert.equal(proof.body.key_changes.length, 1);
  assert.match(proof.body.key_changes[0], new RegExp(` next-key=${newKey}$`));
  const file = path.join(server.dataDir, 'proof-after-change.json');
  writeFileSync(file, JSON.stringify(proof.body));
  const checked = runCli(['audit', 'check-proof', file, '--public-key-file', publicKey]);
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  const stripped = { ...proof.body, key_changes: [] };
  writeFileSync(file, JSON.stringify(stripped));
  const without = runCli(['audit', 'check-proof', file, '--public-key-file', publicKey]);
  assert.equal(without.status, 1, without.stdout + without.stderr);
});

// An officer changes the key while the server runs, confirming with the password: the head is
// handed over at once, the change is on record with its reason, and the first public key still
// checks the chain, the server's verification and a proof of what the new key signs.
test('an officer changes the checkpoint signing key while the server runs', async () => {
  const publicKey = path.join(server.dataDir, 'audit', 'signing.pub');
  const checkpoints = path.join(server.dataDir, 'audit', 'checkpoints.log');
  const firstKey = readFileSync(publicKey, 'utf8').trim();

  const staff = await users.sol.post('/api/v1/audit/signing-key', { password: PASSWORD });
  assert.equal(staff.status, 403, staff.text);
  assert.equal(staff.body.code, 'compliance_required');
  const bare = await officer.post('/api/v1/audit/signing-key', {});
  assert.equal(bare.status, 400, bare.text);
  assert.equal(bare.body.field, '/password');
  const wrong = await officer.post('/api/v1/audit/signing-key', { password: 'not-the-password-at-all' });
  assert.equal(wrong.status, 403, wrong.text);
  assert.equal(wrong.body.code, 'invalid_credentials');
  const unknown = await officer.post('/api/v1/audit/signing-key', { password: PASSWORD, key: 'mine' });
  assert.equal(unknown.status, 400, unknown.text);
  const changesBefore = readFileSync(checkpoints, 'utf8').split(' next-key=').length - 1;
  const staffKeys = await users.sol.get('/api/v1/audit/signing-key');
  assert.equal(staffKeys.status, 403, staffKeys.text);
  assert.equal(staffKeys.body.code, 'compliance_required');
  const keysBefore = await officer.get('/api/v1/audit/signing-key');
  assert.equal(keysBefore.status, 200, keysBefore.text);
  assert.equal(keysBefore.body.anchor_public_key, firstKey);
  assert.equal(keysBefore.body.changes.length, changesBefore);
  assert.equal(keysBefore.body.change_days, 365, 'a yearly change by default');
  assert.equal(keysBefore.body.next_change_at, keysBefore.body.since + 365 * 86_400_000);
  assert.equal(keysBefore.body.problem, null);

  const changed = await officer.post('/api/v1/audit/signing-key', { password: PASSWORD, reason: 'yearly key change' });
  assert.equal(changed.status, 200, changed.text);
  assert.match(changed.body.public_key, /^[0-9a-f]{64}$/);
  assert.notEqual(changed.body.public_key, changed.body.previous_public_key);
  const lines = readFileSync(checkpoints, 'utf8').trim().split('\n');
  assert.equal(lines.join('\n').split(' next-key=').length - 1, changesBefore + 1);
  const handOver = lines.findLast((l) => l.includes(' next-key='));
  assert.ok(handOver.endsWith(` next-key=${changed.body.public_key}`));
  assert.equal(readFileSync(publicKey, 'utf8').trim(), firstKey, 'the public key file keeps the first key');
  const keysAfter = await officer.get('/api/v1/audit/signing-key');
  assert.equal(keysAfter.body.public_key, changed.body.public_key);
  assert.equal(keysAfter.body.since_seq, changed.body.seq);
  assert.equal(keysAfter.body.anchor_public_key, firstKey);
  assert.deepEqual(keysAfter.body.changes.at(-1),
    { seq: changed.body.seq, time: keysAfter.body.since, previous_public_key: keysBefore.body.public_key, public_key: changed.body.public_key });
  assert.equal(keysAfter.body.changes.length, changesBefore + 1);

  const record = await officer.get('/api/v1/audit?action=audit.key_changed&limit=1');
  assert.equal(record.body.items[0].actor_id, officer.user.id);
  assert.equal(record.body.items[0].reason, 'yearly key change');
  assert.equal(record.body.items[0].details.public_key, changed.body.public_key);
  assert.equal(record.body.items[0].details.seq, changed.body.seq);
  const refused = await officer.get('/api/v1/audit?action=audit.key_change&outcome=denied&limit=5');
  assert.ok(refused.body.items.some((r) => r.actor_id === users.sol.user.id && r.reason === 'compliance_required'));

  // The server signs on with the new key (a checkpoint a second); its verification follows both changes.
  const res = await verifyNow();
  assert.equal(res.body.ok, true, res.body.problem);
  assert.equal(res.body.key_changes, changesBefore + 1);
  let proof;
  for (let i = 0; i < 50; i++) {
    proof = await officer.get(`/api/v1/audit/proof/inclusion?seq=${record.body.items[0].seq}`);
    if (proof.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));  // until a checkpoint signs the record of the change
  }
  assert.equal(proof.status, 200, proof.text);
  assert.equal(proof.body.key_changes.length, changesBefore + 1);
  const file = path.join(server.dataDir, 'proof-after-live-change.json');
  writeFileSync(file, JSON.stringify(proof.body));
  const checked = runCli(['audit', 'check-proof', file, '--public-key-file', publicKey]);
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
});

test('after shutdown the CLI verifies the files, and names the first record a tamperer changed', async () => {
  await server.stop();
  const keyFile = path.join(server.dataDir, 'audit', 'signing.key');
  assert.ok(existsSync(keyFile));
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const checkpoints = readFileSync(path.join(server.dataDir, 'audit', 'checkpoints.log'), 'utf8').trim().split('\n');
  assert.ok(checkpoints.length >= 2, 'a periodic and a shutdown checkpoint');

  const ok = runCli(['audit', 'verify'], { dataDir: server.dataDir });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^ok$/m);
  const records = Number(ok.stdout.match(/records: (\d+)/)[1]);
  assert.ok(records > 10);

  const exported = runCli(['audit', 'export', '--format', 'ndjson', '--from', '2020-01-01T00:00:00Z'], { dataDir: server.dataDir });
  assert.equal(exported.status, 0, exported.stderr);
  assert.ok(exported.stdout.trim().split('\n').length >= records);
  // To a file: written under a temporary name and renamed once complete.
  const file = path.join(server.dataDir, 'audit-export.csv');
  const toFile = runCli(['audit', 'export', '--format', 'csv', '--out', file], { dataDir: server.dataDir });
  assert.equal(toFile.status, 0, toFile.stderr);
  assert.equal(toFile.stdout, '');
  assert.ok(!existsSync(file + '.partial'));
  const rows = readFileSync(file, 'utf8').trim().split('\r\n');
  assert.match(rows[0], /^seq,time,recorded,actor_id,/);
  assert.ok(rows.length - 1 > records, 'every record verified before, and the exports since');
  // A folder that does not exist: an error, and no file left behind.
  const nowhere = runCli(['audit', 'export', '--format', 'csv', '--out', path.join(server.dataDir, 'missing', 'x.csv')],
    { dataDir: server.dataDir });
  assert.notEqual(nowhere.status, 0);
  assert.match(nowhere.stderr, /cannot write/);

  // Whoever holds the database file drops the append-only triggers and edits a sign-in.
  const db = path.join(server.dataDir, 'rounds.db');
  const target = 5;
  const original = spawnSync('sqlite3', [db, `SELECT outcome, reason FROM audit_log WHERE seq = ${target};`], { encoding: 'utf8' });
  assert.equal(original.status, 0, original.stderr);
  const [outcome, reason] = original.stdout.trim().split('|');
  const forged = outcome === 'success' ? 'denied' : 'success';
  const sql = spawnSync('sqlite3', [db,
    'DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; ' +
    `UPDATE audit_log SET outcome = '${forged}' WHERE seq = ${target};`], { encoding: 'utf8' });
  assert.equal(sql.status, 0, sql.stderr);
  const bad = runCli(['audit', 'verify'], { dataDir: server.dataDir });
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, new RegExp(`TAMPERED: first bad record seq ${target}:`));

  // Truncating the tail and leaving a consistent chain is caught by the signed checkpoints.
  const cut = spawnSync('sqlite3', [db, `UPDATE audit_log SET outcome = '${outcome}', reason = '${reason}' WHERE seq = ${target}; ` +
    `DELETE FROM audit_log WHERE seq > ${records - 3};`], { encoding: 'utf8' });
  assert.equal(cut.status, 0, cut.stderr);
  const truncated = runCli(['audit', 'verify'], { dataDir: server.dataDir });
  assert.equal(truncated.status, 1, truncated.stdout);
  assert.match(truncated.stdout, /removed/);

  // The checkpoint file removed while the key stays (and the search indexes trimmed to the cut
  // trail, so that only the checkpoints could tell): the server signs a checkpoint as soon as it
  // has a key, so this is no unsigned trail but one whose proof was taken away.
  const trimmed = spawnSync('sqlite3', [db, `DELETE FROM audit_index_actor WHERE seq > ${records - 3}; ` +
    `DELETE FROM audit_index_object WHERE seq > ${records - 3}; ` +
    `UPDATE audit_index_state SET indexed_seq = min(indexed_seq, ${records - 3});`], { encoding: 'utf8' });
  assert.equal(trimmed.status, 0, trimmed.stderr);
  const checkpointFile = path.join(server.dataDir, 'audit', 'checkpoints.log');
  renameSync(checkpointFile, checkpointFile + '.aside');
  const unanchored = runCli(['audit', 'verify'], { dataDir: server.dataDir });
  assert.equal(unanchored.status, 1, unanchored.stdout + unanchored.stderr);
  assert.match(unanchored.stdout, /TAMPERED: .*missing or empty, though a signing key exists/);
  // The public key gone too, as on a trail only the CLI wrote before the first server start: a
  // warning, or a failure when the operator says checkpoints must be there.
  const publicKey = path.join(server.dataDir, 'audit', 'signing.pub');
  renameSync(publicKey, publicKey + '.aside');
  const unsigned = runCli(['audit', 'verify'], { dataDir: server.dataDir });
  assert.equal(unsigned.status, 0, unsigned.stdout + unsigned.stderr);
  assert.match(unsigned.stderr, /warning: no checkpoints/);
  const strict = runCli(['audit', 'verify', '--require-checkpoints'], { dataDir: server.dataDir });
  assert.equal(strict.status, 1, strict.stdout + strict.stderr);
  assert.match(strict.stdout, /--require-checkpoints/);
});
