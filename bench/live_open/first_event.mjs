// What the opening of a socket's live reading costs (audit, message.live state "opened"): the time
// from sending a post to its event reaching a member's open socket, for the first event of a
// PHI-bearing space on that socket (which waits for the durable opening record) and for the next
// one (which does not). Runs the real binary on a fresh data folder (encrypted, as by default),
// one fresh space and socket per sample; prints medians and p90s. Timings are never asserted.
//
//   node bench/live_open/first_event.mjs [--spaces N]     (ROUNDS_BINARY: the binary; default build/rounds)
import { createSpace, addMember, createUsers, startServer } from '../../tests/integration/fixtures.mjs';

const args = process.argv.slice(2);
let spaces = 40;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--spaces' && /^\d+$/.test(args[i + 1] ?? '') && Number(args[i + 1]) > 0) {
    spaces = Number(args[++i]);
  } else {
    process.stderr.write('usage: node bench/live_open/first_event.mjs [--spaces N]\n');
    process.exit(2);
  }
}

const { server, admin } = await startServer();
try {
  const users = await createUsers(server, admin, ['ana', 'bo']);
  const first = [], next = [];
  for (let i = 0; i < spaces; i++) {
    const space = await createSpace(users.ana, { name: `live-open-${i}`, template: 'clinical-team', visibility: 'private' });
    await addMember(users.ana, space.id, users.bo.user.id);
    const socket = await users.bo.openEvents();
    socket.send({ type: 'resume', cursors: {} });
    await socket.waitFor((f) => f.type === 'resumed');
    for (const into of [first, next]) {
      const sent = performance.now();
      const post = await users.ana.post(`/api/v1/spaces/${space.id}/messages`, { body: `handover note ${i}` });
      if (post.status !== 201) throw new Error(`post: ${post.status} ${post.text}`);
      await socket.waitFor((f) => f.type === 'event' && f.data?.id === post.body.id);
      into.push(performance.now() - sent);
    }
    await socket.close();
  }
  const at = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
  const line = (name, values) =>
    `  ${name.padEnd(38)} p50 ${at(values, 0.5).toFixed(2)} ms  p90 ${at(values, 0.9).toFixed(2)} ms`;
  console.log(`post to its event at a member's socket, ${spaces} PHI-bearing spaces, a fresh socket each`);
  console.log(line('first event (waits for the opening)', first));
  console.log(line('next event', next));
} finally {
  await server.stop();
  server.cleanup();
}
process.exit(0);
