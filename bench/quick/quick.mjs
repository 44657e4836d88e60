// First figures for Rounds on this machine: durable message posts per second from many clients,
// a history page read by wrk, and server memory with 1,000 idle signed-in WebSockets. Loopback
// only, bounded in time. Run: node bench/quick/quick.mjs (after scripts/build.sh).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import WebSocket from '../../tests/node_modules/ws/index.js';
import { startServer, createUsers, createSpace, addMember, PASSWORD } from '../../tests/integration/fixtures.mjs';

const rss = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
const { server, admin } = await startServer();
try {
  const names = Array.from({ length: 20 }, (_, i) => `bench${i}`);
  const users = await createUsers(server, admin, names);
  const space = await createSpace(users.bench0, { name: 'bench', kind: 'channel' });
  for (const n of names.slice(1)) await addMember(users.bench0, space.id, users[n].user.id);

  // 1. Durable posts: 64 concurrent clients for 10 s.
  const seconds = 10, concurrency = 64;
  let posted = 0, failed = 0;
  const latencies = [];
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
    const c = users[names[i % names.length]];
    while (Date.now() < deadline) {
      const t0 = performance.now();
      const r = await c.post(`/api/v1/spaces/${space.id}/messages`, { body: `load ${i} ${posted}` });
      latencies.push(performance.now() - t0);
      r.status === 201 ? posted++ : failed++;
    }
  }));
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.floor(latencies.length * p)].toFixed(1);
  console.log(`posts: ${(posted / seconds).toFixed(0)} msg/s durable (${concurrency} clients, ${failed} failed), p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);
  const metrics = await (await fetch(server.baseUrl + '/metrics')).text();
  const units = Number(metrics.match(/rounds_store_write_units_total (\d+)/)[1]);
  const batches = Number(metrics.match(/rounds_store_batch_units_count (\d+)/)[1]);
  console.log(`group commit: ${(units / batches).toFixed(1)} write units per transaction on average`);

  // 2. History read with wrk: a page of 50 messages.
  writeFileSync('/tmp/rounds-wrk.lua', `wrk.headers["Authorization"] = "Bearer ${users.bench1.token}"\n`);
  const wrk = spawnSync('wrk', ['-t2', '-c32', '-d10s', '-s', '/tmp/rounds-wrk.lua', `${server.baseUrl}/api/v1/spaces/${space.id}/messages?limit=50`], { encoding: 'utf8' });
  const rps = wrk.stdout.match(/Requests\/sec:\s+([\d.]+)/);
  const lat = wrk.stdout.match(/Latency\s+(\S+)/);
  console.log(`history page (50 messages): ${rps ? rps[1] : '?'} req/s, mean latency ${lat ? lat[1] : '?'} (wrk -t2 -c32)`);

  // 3. Idle WebSockets.
  const before = rss(server.process.pid);
  const sockets = [];
  for (let i = 0; i < 1000; i++) {
    const c = users[names[i % names.length]];
    const ws = new WebSocket(server.baseUrl.replace('http', 'ws') + '/api/v1/events', { headers: { authorization: `Bearer ${c.token}` } });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify({ type: 'resume', cursors: {} }));
    sockets.push(ws);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const after = rss(server.process.pid);
  console.log(`idle websockets: 1000 open, server RSS ${before} KiB -> ${after} KiB (${((after - before) / 1000).toFixed(1)} KiB each)`);
  for (const ws of sockets) ws.terminate();
} finally {
  await server.stop();
  server.cleanup();
}
