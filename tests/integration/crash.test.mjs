// Killed mid-write, the server loses nothing it acknowledged. Posters keep the store's writer,
// its log checkpointer and the search and audit indexes busy; the server is killed with SIGKILL at
// a different moment each round and started again on the same folder. Every post answered 201 must
// then be stored exactly once, readable in its space and found by search; a post whose answer the
// kill cut off is either stored once or not at all, and retrying it with its client id never
// makes a second copy. At the end the audit chain verifies and SQLite finds the file intact.
import test from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../lib/server.mjs';
import { startServer, createUsers, createSpace, addMember } from './fixtures.mjs';

const ROUNDS = 4;
const POSTERS = 12;

let server, admin, users, space;

test.before(async () => {
  // Posts as fast as a few users can make them: the per-user write limit is not what is tested.
  ({ server, admin } = await startServer({ env: { ROUNDS_WRITE_REQUESTS_PER_SECOND: '0' } }));
  users = await createUsers(server, admin, ['ines', 'otto', 'pia']);
  space = await createSpace(users.ines, { name: 'Night shift', visibility: 'private', join_policy: 'invite' });
  await addMember(users.ines, space.id, users.otto.user.id);
  await addMember(users.ines, space.id, users.pia.user.id);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

// Every message of the space, oldest first.
async function allMessages(client) {
  const items = [];
  let after = 0;
  for (;;) {
    const res = await client.get(`/api/v1/spaces/${space.id}/messages?after=${after}&limit=200`);
    assert.equal(res.status, 200, res.text);
    items.push(...res.body.items);
    if (res.body.next_cursor === null || res.body.items.length === 0) return items;
    after = res.body.items[res.body.items.length - 1].seq;
  }
}

test('SIGKILL under load never loses or duplicates an acknowledged post', async () => {
  const acknowledged = new Map();  // client_id -> {body, word}
  const cutOff = new Map();        // client_id -> {client, body}: sent, answer never received
  const posters = [users.ines, users.otto, users.pia];
  for (let round = 0; round < ROUNDS; round++) {
    let stop = false;
    const loops = [];
    for (let p = 0; p < POSTERS; p++) {
      const client = posters[p % posters.length];
      loops.push((async () => {
        for (let n = 0; !stop; n++) {
          const word = `crashword${round}x${p}x${n}`;
          const clientId = `crash-${round}-${p}-${n}`;
          // Every third post carries a phone number: confirmed, it writes an audit record too.
          const body = n % 3 === 0 ? `${word} call back on 617-555-0142` : `${word} handover notes for bed ${n}`;
          let res;
          try {
            res = await client.post(`/api/v1/spaces/${space.id}/messages`, { body, client_id: clientId, confirm_phi: true });
          } catch {
            cutOff.set(clientId, { client, body });
            return;  // the server is gone
          }
          assert.equal(res.status, 201, res.text);
          acknowledged.set(clientId, { body, word });
        }
      })());
    }
    await new Promise((r) => setTimeout(r, 400 + 350 * round));
    stop = true;
    server.process.kill('SIGKILL');
    await Promise.all(loops);
    const exited = await server.exited;
    assert.equal(exited.signal, 'SIGKILL');
    await server.start({ port: server.port });

    // Every acknowledged post is there exactly once, as it was sent.
    const stored = await allMessages(users.ines);
    const byClientId = new Map();
    for (const m of stored) {
      assert.ok(!byClientId.has(m.client_id), `client id ${m.client_id} is stored twice`);
      byClientId.set(m.client_id, m);
    }
    for (const [clientId, { body }] of acknowledged) {
      const m = byClientId.get(clientId);
      assert.ok(m, `round ${round}: acknowledged post ${clientId} was lost`);
      assert.equal(m.body, body);
    }
    const seqs = stored.map((m) => m.seq);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), 'sequence numbers are unique and ordered');
    // A post cut off by the kill is stored once or not at all; its author's retry (client ids are
    // unique per author and space) makes no second copy.
    for (const [clientId, { client, body }] of cutOff) {
      const res = await client.post(`/api/v1/spaces/${space.id}/messages`, { body, client_id: clientId, confirm_phi: true });
      assert.ok([200, 201].includes(res.status), res.text);
      assert.equal(res.status === 200, byClientId.has(clientId), `${clientId}: a retry finds the stored post, or stores it`);
      acknowledged.set(clientId, { body, word: body.split(' ')[0] });
    }
    console.log(`round ${round}: ${acknowledged.size} acknowledged so far, ${cutOff.size} cut off, ${stored.length} stored`);
    cutOff.clear();
    // Search finds acknowledged posts of this round (its index is applied after the commit).
    const ofRound = [...acknowledged.values()].filter(({ word }) => word.startsWith(`crashword${round}x`));
    assert.ok(ofRound.length >= POSTERS, `round ${round} acknowledged only ${ofRound.length} posts`);
    for (const { word, body } of [ofRound[0], ofRound[Math.floor(ofRound.length / 2)], ofRound[ofRound.length - 1]]) {
      const res = await users.otto.get(`/api/v1/search?q=${word}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.messages.some((hit) => hit.message.body === body), `search finds ${word}`);
    }
  }
  const stored = await allMessages(users.ines);
  assert.equal(stored.length, acknowledged.size, 'nothing is stored that was not sent');

  await server.stop();
  const verified = runCli(['audit', 'verify'], { dataDir: server.dataDir });
  assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  // Every page read back and authenticated under the database key, and the structure whole.
  const integrity = runCli(['admin', 'database', 'check'], { dataDir: server.dataDir });
  assert.equal(integrity.status, 0, integrity.stdout + integrity.stderr);
  assert.match(integrity.stdout, /\(encrypted\): ok$/m);
  await server.start({ port: server.port });
});
