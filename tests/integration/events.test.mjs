// The WebSocket event stream against the real binary: live delivery, origin checks, session end,
// resume with cursors after forced disconnects and across a restart, and slow consumers.
import test from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, createUsers, createGuest, createSpace, addMember } from './fixtures.mjs';

let server, admin, users, space;

test.before(async () => {
  // Traffic from a few users at load-test rates: the per-user write limit is not what is tested.
  ({ server, admin } = await startServer({ extraArgs: ['--ws-send-queue-limit', '64'],
    env: { ROUNDS_WRITE_REQUESTS_PER_SECOND: '0' } }));
  users = await createUsers(server, admin, ['wren', 'yves', 'zara']);
  space = await createSpace(users.wren, { name: 'Live Channel', kind: 'channel' });
  await addMember(users.wren, space.id, users.yves.user.id);
});

test.after(async () => {
  await server.stop();
  server.cleanup();
});

async function post(client, body, extra = {}) {
  const res = await client.post(`/api/v1/spaces/${space.id}/messages`, { body, ...extra });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

test('a message reaches the other member live, once', async () => {
  const stream = await users.yves.openEvents();
  stream.send({ type: 'resume', cursors: {} });
  await stream.waitFor((f) => f.type === 'resumed');
  const m = await post(users.wren, 'live hello');
  const frame = await stream.waitFor((f) => f.type === 'event' && f.event === 'message.created' && f.data.id === m.id);
  assert.equal(frame.space_id, space.id);
  assert.equal(frame.seq, m.seq);
  assert.equal(frame.data.body, 'live hello');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(stream.events(space.id).filter((f) => f.data.id === m.id).length, 1);
  stream.send({ type: 'ping' });
  await stream.waitFor((f) => f.type === 'pong');
  await stream.close();
});

// Services publish after their commit from whichever thread committed, so events of one space
// committed in the same group commit can reach the hub out of order. A live listener must still
// see every seq once and in order.
test('concurrent posters: a live listener sees every event once, in seq order', async () => {
  const start = (await users.yves.get(`/api/v1/spaces/${space.id}`)).body.last_seq;
  const stream = await users.yves.openEvents();
  stream.send({ type: 'resume', cursors: { [space.id]: start } });
  await stream.waitFor((f) => f.type === 'resumed');
  const posters = [users.wren, users.yves, users.wren, users.yves, users.wren, users.yves, users.wren, users.yves];
  const rounds = 25;
  await Promise.all(posters.map(async (client, p) => {
    for (let i = 0; i < rounds; i++) await post(client, `concurrent ${p}.${i}`);
  }));
  const last = (await users.yves.get(`/api/v1/spaces/${space.id}`)).body.last_seq;
  await stream.waitFor((f) => f.type === 'event' && f.seq === last, 10000);
  const seqs = stream.events(space.id).map((f) => f.seq);
  const expected = Array.from({ length: last - start }, (_, i) => start + 1 + i);
  assert.deepEqual(seqs, expected);
  await stream.close();
});

test('presence: a snapshot on resume, then changes in batches', async () => {
  const first = await users.wren.openEvents();
  first.send({ type: 'resume', cursors: {} });
  await first.waitFor((f) => f.type === 'resumed');
  const wrenOnline = await first.waitFor((f) => f.type === 'presence' && f.online.includes(users.wren.user.id));
  const second = await users.zara.openEvents();
  second.send({ type: 'resume', cursors: {} });
  const snapshot = await second.waitFor((f) => f.type === 'presence_snapshot');
  assert.ok(snapshot.user_ids.includes(users.wren.user.id));
  assert.ok(snapshot.version >= wrenOnline.version);
  const zaraOnline = await first.waitFor((f) => f.type === 'presence' && f.online.includes(users.zara.user.id));
  assert.ok(zaraOnline.version > wrenOnline.version);
  await second.close();
  const zaraOffline = await first.waitFor((f) => f.type === 'presence' && f.offline.includes(users.zara.user.id));
  assert.ok(zaraOffline.version > zaraOnline.version);
  await first.close();
});

test('presence is the staff\'s: a guest is told nobody\'s comings and goings, nor anyone\'s snapshot', async () => {
  const guest = await createGuest(server, admin, 'visiting');
  const outsider = await guest.openEvents();
  outsider.send({ type: 'resume', cursors: {} });
  await outsider.waitFor((f) => f.type === 'resumed');
  const staff = await users.yves.openEvents();
  staff.send({ type: 'resume', cursors: {} });
  // Staff are told of the guest's arrival and of each other's; the guest of nobody's.
  await staff.waitFor((f) => f.type === 'presence_snapshot');
  const later = await users.zara.openEvents();
  await staff.waitFor((f) => f.type === 'presence' && f.online.includes(users.zara.user.id));
  await later.close();
  await staff.waitFor((f) => f.type === 'presence' && f.offline.includes(users.zara.user.id));
  assert.deepEqual(outsider.frames.filter((f) => f.type === 'presence' || f.type === 'presence_snapshot'), []);
  await outsider.close();
  await staff.close();
});

test('presence: a burst of connects reaches each socket in a few frames, not one per connect', async () => {
  const watcher = await users.wren.openEvents();
  watcher.send({ type: 'resume', cursors: {} });
  const snapshot = await watcher.waitFor((f) => f.type === 'presence_snapshot');
  await new Promise((resolve) => setTimeout(resolve, 600));  // the watcher's own arrival is announced
  const before = Math.max(snapshot.version, ...watcher.frames.filter((f) => f.type === 'presence').map((f) => f.version));
  // Twelve people sign in at once: one change each, announced in one or two frames.
  const crowd = await createUsers(server, admin, Array.from({ length: 12 }, (_, i) => `crowd${i}`));
  const ids = Object.values(crowd).map((u) => u.user.id);
  const burst = await Promise.all(Object.values(crowd).map((u) => u.openEvents()));
  const announced = (id) => watcher.frames.some((f) => f.type === 'presence' && f.version > before && f.online.includes(id));
  await watcher.waitFor(() => ids.every(announced));
  const frames = watcher.frames.filter((f) => f.type === 'presence' && f.version > before);
  assert.ok(frames.length <= burst.length / 3, `${frames.length} presence frames for ${burst.length} connects`);
  const versions = frames.map((f) => f.version);
  assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'versions increase');
  for (const socket of burst) await socket.close();
  await watcher.waitFor(() => ids.every((id) => watcher.frames.some((f) => f.type === 'presence' && f.offline.includes(id))));
  await watcher.close();
});

test('non-members receive nothing from the space', async () => {
  const outsider = await users.zara.openEvents();
  outsider.send({ type: 'resume', cursors: { [space.id]: 0 } });
  await outsider.waitFor((f) => f.type === 'resumed');
  await post(users.wren, 'members only');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(outsider.events(space.id).length, 0);
  await outsider.close();
});

test('a foreign Origin is refused at the handshake', async () => {
  await assert.rejects(users.yves.openEvents({ origin: 'https://evil.example' }), (e) => e.statusCode === 403);
  const own = await users.yves.openEvents({ origin: server.baseUrl });
  await own.close();
});

test('a cookie session needs a browser Origin of our own; a bearer client may omit it', async () => {
  const browser = server.client();
  await browser.login('yves', 'integration-password-2026', { cookie: true });
  await assert.rejects(browser.openEvents(), (e) => e.statusCode === 403, 'cookie without Origin');
  await assert.rejects(browser.openEvents({ origin: 'null' }), (e) => e.statusCode === 403, 'opaque origin');
  await assert.rejects(browser.openEvents({ origin: `http://localhost.evil.example:${server.port}` }), (e) => e.statusCode === 403);
  const own = await browser.openEvents({ origin: server.baseUrl });
  await own.close();
  const api = await users.yves.openEvents();  // bearer, no Origin
  await api.close();
});

test('frames the server does not understand get an error frame; the socket stays open', async () => {
  const stream = await users.yves.openEvents();
  stream.ws.send('not json at all');
  await stream.waitFor((f) => f.type === 'error' && f.code === 'malformed_frame');
  stream.send({ type: 'subscribe-to-everything' });
  await stream.waitFor((f) => f.type === 'error' && f.code === 'unknown_frame');
  stream.send({ type: 'ping' });
  await stream.waitFor((f) => f.type === 'pong');
  stream.ws.send('x'.repeat(70 * 1024));  // over the 64 KiB frame limit
  const closed = await stream.closed;
  assert.equal(closed.code, 1009);
});

test('a socket that floods the server with frames is closed with 4029, and a client may reconnect', async () => {
  // A client sends a resume per connection, typing every few seconds and a ping every 15 s; each
  // frame may cost a read of the store. A burst of 40 is allowed, refilled at 10 a second.
  const stream = await users.yves.openEvents();
  const typing = new Set();
  for (let i = 0; i < 300; i++) stream.send(i % 2 ? { type: 'ping' } : { type: 'typing', space_id: 100000 + i });
  const closed = await Promise.race([stream.closed, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 5000))]);
  assert.equal(closed.code, 4029);
  assert.match(closed.reason, /too many frames/);
  const pongs = stream.frames.filter((f) => f.type === 'pong').length;
  assert.ok(pongs >= 15 && pongs <= 40, `answered ${pongs} of 150 pings before closing`);
  for (const f of stream.frames) if (f.type === 'typing') typing.add(f.space_id);
  assert.equal(typing.size, 0, 'typing in spaces the user is not in is never relayed');
  const metrics = await (await fetch(server.baseUrl + '/metrics')).text();
  assert.match(metrics, /rounds_websockets_dropped_flooding_total [1-9]/);
  // At a client's pace a new socket is served.
  const again = await users.yves.openEvents();
  for (let i = 1; i <= 5; i++) {
    again.send({ type: 'ping' });
    await again.waitFor(() => again.frames.filter((f) => f.type === 'pong').length === i);
  }
  await again.close();
});

test('an unauthenticated handshake is refused', async () => {
  const anonymous = server.client();
  await assert.rejects(anonymous.openEvents(), (e) => e.statusCode === 401);
});

test('logout closes the session\'s sockets with 4001', async () => {
  const c = server.client();
  await c.login('zara', 'integration-password-2026');
  const stream = await c.openEvents();
  await c.post('/api/v1/auth/logout');
  const closed = await Promise.race([stream.closed, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 5000))]);
  assert.equal(closed.code, 4001);
});

test('disabling an account closes its sockets with 4001', async () => {
  const res = await admin.post('/api/v1/users', { username: 'soon-gone', display_name: 'Soon Gone', password: 'integration-password-2026' });
  assert.equal(res.status, 201);
  const c = server.client();
  await c.login('soon-gone', 'integration-password-2026');
  const stream = await c.openEvents();
  const started = Date.now();
  assert.equal((await admin.patch(`/api/v1/users/${res.body.id}`, { disabled: true })).status, 200);
  const closed = await Promise.race([stream.closed, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 5000))]);
  assert.equal(closed.code, 4001);
  assert.ok(Date.now() - started < 5000);
  await assert.rejects(c.openEvents(), (e) => e.statusCode === 401);
});

// Events a member misses while out of a space leave a hole in that socket's sequence when they
// are back; the hole is filled from the store after a short grace, and what follows flows again.
test('a hole in a live sequence is filled from the store', async () => {
  const gapSpace = await createSpace(users.wren, { name: 'Gap Channel', kind: 'channel' });
  await addMember(users.wren, gapSpace.id, users.zara.user.id);
  const fillsBefore = gapFills(await (await fetch(server.baseUrl + '/metrics')).text());
  const stream = await users.zara.openEvents();
  const start = (await users.zara.get(`/api/v1/spaces/${gapSpace.id}`)).body.last_seq;
  stream.send({ type: 'resume', cursors: { [gapSpace.id]: start } });
  await stream.waitFor((f) => f.type === 'resumed');
  const seen = await users.wren.post(`/api/v1/spaces/${gapSpace.id}/messages`, { body: 'before the gap' });
  await stream.waitFor((f) => f.type === 'event' && f.data?.id === seen.body.id);
  const removed = await users.wren.del(`/api/v1/spaces/${gapSpace.id}/members/${users.zara.user.id}`);
  assert.ok(removed.status === 200 || removed.status === 204, removed.text);
  for (const body of ['missed one', 'missed two']) {
    assert.equal((await users.wren.post(`/api/v1/spaces/${gapSpace.id}/messages`, { body })).status, 201);
  }
  await addMember(users.wren, gapSpace.id, users.zara.user.id);
  const after = await users.wren.post(`/api/v1/spaces/${gapSpace.id}/messages`, { body: 'after the gap' });
  await stream.waitFor((f) => f.type === 'event' && f.data?.id === after.body.id, 5000);
  const seqs = stream.events(gapSpace.id).map((f) => f.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
  assert.equal(new Set(seqs).size, seqs.length, 'no duplicates');
  assert.ok(gapFills(await (await fetch(server.baseUrl + '/metrics')).text()) > fillsBefore, 'filled from the store');
  // The socket goes on live after the fill.
  const next = await users.wren.post(`/api/v1/spaces/${gapSpace.id}/messages`, { body: 'live again' });
  await stream.waitFor((f) => f.type === 'event' && f.data?.id === next.body.id);
  await stream.close();
});

function gapFills(metrics) {
  return Number(/rounds_websocket_gap_fills_total (\d+)/.exec(metrics)[1]);
}

test('typing is relayed to other members and never stored', async () => {
  const listener = await users.yves.openEvents();
  listener.send({ type: 'resume', cursors: {} });
  await listener.waitFor((f) => f.type === 'resumed');
  const typer = await users.wren.openEvents();
  typer.send({ type: 'typing', space_id: space.id });
  const frame = await listener.waitFor((f) => f.type === 'typing');
  assert.equal(frame.user_id, users.wren.user.id);
  const events = await users.yves.get(`/api/v1/spaces/${space.id}/messages?after=0&limit=200`);
  assert.ok(events.body.items.every((m) => m.kind === 'message'));
  await listener.close();
  await typer.close();
});

// Many forced disconnects while messages keep flowing: after each reconnect the client resumes
// from the last seq it saw; in the end it has every event exactly once and in order.
test('resume after 40 forced disconnects under concurrent traffic: no gap, no duplicate', async () => {
  const lastSeq = (await users.yves.get(`/api/v1/spaces/${space.id}`)).body.last_seq;
  let cursor = lastSeq;
  const seen = [];
  let sending = true;
  const sent = [];
  // Three concurrent senders: their events share group commits and reach the hub out of order.
  const sender = Promise.all([users.wren, users.yves, users.wren].map(async (client, p) => {
    let i = 0;
    while (sending) {
      sent.push((await post(client, `burst ${p}.${i++}`)).seq);
    }
  }));
  for (let round = 0; round < 40; round++) {
    const stream = await users.yves.openEvents();
    stream.send({ type: 'resume', cursors: { [space.id]: cursor } });
    await stream.waitFor((f) => f.type === 'resumed');
    await new Promise((r) => setTimeout(r, 10 + (round % 5) * 10));
    stream.ws.terminate();  // an abrupt drop, no close handshake
    await stream.closed;
    for (const f of stream.events(space.id)) {
      seen.push(f.seq);
      cursor = f.seq;
    }
  }
  sending = false;
  await sender;
  const stream = await users.yves.openEvents();
  stream.send({ type: 'resume', cursors: { [space.id]: cursor } });
  await stream.waitFor((f) => f.type === 'resumed');
  for (const f of stream.events(space.id)) seen.push(f.seq);
  await stream.close();
  const expected = [];
  const finalSeq = (await users.yves.get(`/api/v1/spaces/${space.id}`)).body.last_seq;
  for (let s = lastSeq + 1; s <= finalSeq; s++) expected.push(s);
  assert.ok(sent.length > 20, `traffic flowed (${sent.length} messages)`);
  assert.deepEqual(seen, expected);
});

test('resume across a server restart delivers what was missed', async () => {
  const before = await users.yves.openEvents();
  before.send({ type: 'resume', cursors: {} });
  await before.waitFor((f) => f.type === 'resumed');
  const cursor = (await users.yves.get(`/api/v1/spaces/${space.id}`)).body.last_seq;
  await server.restart();
  const closed = await before.closed;
  assert.ok([1001, 1006].includes(closed.code), `closed with ${closed.code}`);
  // Sessions survive the restart (they are stored); a message is sent while yves is away.
  const missed = await post(users.wren, 'sent while you were away');
  const after = await users.yves.openEvents();
  after.send({ type: 'resume', cursors: { [space.id]: cursor } });
  await after.waitFor((f) => f.type === 'resumed');
  const seqs = after.events(space.id).map((f) => f.seq);
  assert.deepEqual(seqs, [missed.seq]);
  await after.close();
});

test('a consumer that stops reading is dropped with 4008; others keep receiving', async () => {
  const slow = await users.yves.openEvents();
  slow.send({ type: 'resume', cursors: {} });
  await slow.waitFor((f) => f.type === 'resumed');
  const fast = await users.wren.openEvents();
  fast.send({ type: 'resume', cursors: {} });
  await fast.waitFor((f) => f.type === 'resumed');
  slow.ws._socket.pause();  // stop reading: the server's send queue fills up
  const big = 'x'.repeat(9000);
  let last;
  for (let i = 0; i < 1000; i++) last = await post(users.wren, `${big} ${i}`);
  await fast.waitFor((f) => f.type === 'event' && f.seq === last.seq, 20000);
  slow.ws._socket.resume();
  const closed = await Promise.race([slow.closed, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 10000))]);
  assert.ok(closed.code === 4008 || closed.code === 1006, `slow consumer closed with ${closed.code}`);
  const metrics = await (await fetch(server.baseUrl + '/metrics')).text();
  assert.match(metrics, /rounds_websockets_dropped_slow_total [1-9]/);
  await fast.close();
});

test('plain GET on the events endpoint answers 426', async () => {
  const res = await users.yves.get('/api/v1/events');
  assert.equal(res.status, 426);
});
