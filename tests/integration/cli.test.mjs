// The administrator's command line against a real data folder, including a backup taken while
// the server is serving and a server started on that copy.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, RoundsServer } from '../lib/server.mjs';
import { startServer, createSpace } from './fixtures.mjs';

test('users, departments and CSV import from the command line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rounds-cli-'));
  try {
    let r = runCli(['admin', 'department', 'add', 'Cardiology'], { dataDir: dir });
    assert.equal(r.status, 0, r.stderr);
    r = runCli(['admin', 'department', 'add', 'Cath Lab', '--parent', 'Cardiology'], { dataDir: dir });
    assert.equal(r.status, 0, r.stderr);
    r = runCli(['admin', 'department', 'list'], { dataDir: dir });
    assert.match(r.stdout, /Cath Lab\tparent 1/);
    r = runCli(['admin', 'user', 'add', '--username', 'ravi', '--display-name', 'Ravi K', '--job-role', 'Cardiologist',
      '--department', 'Cardiology', '--password-stdin'], { dataDir: dir, input: 'a sound passphrase 2026\n' });
    assert.equal(r.status, 0, r.stderr);
    r = runCli(['admin', 'user', 'add', '--username', 'ravi', '--display-name', 'Again', '--password-stdin'], { dataDir: dir, input: 'another passphrase 2026\n' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /already exists/);
    r = runCli(['admin', 'user', 'add', '--username', 'weak', '--display-name', 'Weak', '--password-stdin'], { dataDir: dir, input: 'short\n' });
    assert.notEqual(r.status, 0);
    const csv = path.join(dir, 'staff.csv');
    writeFileSync(csv, 'username,display_name,email,job_role,department\n' +
      'mina,Mina O,mina@example.org,Nurse,Oncology\n' +
      'BAD NAME,Bad,bad@example.org,Nurse,Oncology\n' +
      'lee,Lee P,lee@example.org,Pharmacist,Pharmacy\n');
    r = runCli(['admin', 'import-users', csv], { dataDir: dir });
    assert.equal(r.status, 1, 'a bad row makes the import exit non-zero');
    assert.match(r.stderr, /staff\.csv:3: /);
    assert.match(r.stdout, /imported 2 users/);
    r = runCli(['admin', 'user', 'list'], { dataDir: dir });
    for (const name of ['ravi', 'mina', 'lee']) assert.match(r.stdout, new RegExp(`\\t${name}\\t`));
    r = runCli(['admin', 'user', 'disable', 'lee'], { dataDir: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(runCli(['admin', 'user', 'list'], { dataDir: dir }).stdout, /\tlee\t.*disabled/);
    r = runCli(['admin', 'user', 'reset-password', 'mina', '--password-stdin'], { dataDir: dir, input: 'a fresh passphrase 2026\n' });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the patient index loads from CSV and the scanner then finds those names', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rounds-patients-'));
  try {
    const csv = path.join(dir, 'patients.csv');
    writeFileSync(csv, 'mrn,first,last\nQ7000001,Ottoline,Vandersloot\nQ7000002,Bartholomew,Quennell\n');
    let r = runCli(['admin', 'import-patients', csv], { dataDir: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /imported 2 patients/);
    writeFileSync(csv, 'mrn,first\nQ7000003,Nobody\n');
    r = runCli(['admin', 'import-patients', csv], { dataDir: dir });
    assert.notEqual(r.status, 0, 'a CSV without a last-name column is refused');
    assert.doesNotMatch(r.stderr, /Nobody/, 'the error names the line, never its content');
    // A server on that data folder refuses the names in a space that blocks PHI.
    const server = new RoundsServer({ dataDir: dir });
    server.bootstrapAdmin();
    await server.start();
    try {
      const admin = server.client();
      await admin.login('admin', 'integration-root-secret-2026');
      const space = await createSpace(admin, { name: 'Announcements desk', kind: 'channel', template: 'announcements' });
      const res = await admin.post(`/api/v1/spaces/${space.id}/messages`, { body: 'ottoline vandersloot was discharged' });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.code, 'phi_blocked');
      assert.ok(res.body.findings.some((f) => f.type === 'name'), JSON.stringify(res.body.findings));
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('template validate gives a file the code the API gives the same bytes, and exit 2 when it cannot read it', async () => {
  const { server, admin } = await startServer();
  const dir = mkdtempSync(path.join(tmpdir(), 'rounds-template-'));
  try {
    const cases = {
      duplicate_key: Buffer.from('{"key":"dup","phi":"allow","phi":"block"}'),
      too_deep: Buffer.from(`{"deep":${'['.repeat(40)}${']'.repeat(40)}}`),
      invalid_utf8: Buffer.from([...Buffer.from('{"key":"'), 0xff, ...Buffer.from('"}')]),
      malformed_json: Buffer.from('{"key": '),
    };
    for (const [code, bytes] of Object.entries(cases)) {
      const file = path.join(dir, `${code}.json`);
      writeFileSync(file, bytes);
      const r = runCli(['admin', 'template', 'validate', file]);
      assert.equal(r.status, 1, `${code}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`: ${code}: The file `), code);
      assert.doesNotMatch(r.stdout, /request body/, 'a file is no request body');
      const api = await admin.request('POST', '/api/v1/templates/validate', bytes,
        { raw: true, headers: { 'content-type': 'application/json' } });
      assert.equal(api.status, 400, api.text);
      assert.equal(api.body.code, code);
      assert.match(api.body.detail, /request body/, api.text);
    }
    for (const unreadable of [dir, path.join(dir, 'missing.json')]) {
      const r = runCli(['admin', 'template', 'validate', unreadable]);
      assert.equal(r.status, 2, `${unreadable}: ${r.stdout}`);
      assert.match(r.stderr, /cannot read/);
    }
  } finally {
    await server.stop();
    server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a backup taken while serving starts as a working server', async () => {
  const { server, admin } = await startServer();
  const copyDir = mkdtempSync(path.join(tmpdir(), 'rounds-restore-'));
  let restored;
  try {
    const space = await createSpace(admin, { name: 'Backed Up', kind: 'channel' });
    for (let i = 0; i < 25; i++) await admin.post(`/api/v1/spaces/${space.id}/messages`, { body: `before backup ${i}` });
    // Keep writing while the backup runs.
    let writing = true;
    const writer = (async () => { while (writing) await admin.post(`/api/v1/spaces/${space.id}/messages`, { body: 'during backup' }); })();
    const r = runCli(['backup', '--to', path.join(copyDir, 'rounds.db')], { dataDir: server.dataDir });
    writing = false;
    await writer;
    assert.equal(r.status, 0, r.stderr);
    mkdirSync(copyDir, { recursive: true });
    restored = new RoundsServer({ dataDir: copyDir });
    // The copy is encrypted under the database key: without its key file it is refused, by name.
    await assert.rejects(restored.start(), /database key file .* cannot be read/);
    mkdirSync(path.join(copyDir, 'keys'));
    copyFileSync(path.join(server.dataDir, 'keys', 'database.key'), path.join(copyDir, 'keys', 'database.key'));
    await restored.start();
    const client = restored.client();
    await client.login('admin', 'integration-root-secret-2026');
    const page = await client.get(`/api/v1/spaces/${space.id}/messages?after=0&limit=200`);
    assert.equal(page.status, 200);
    const bodies = page.body.items.map((m) => m.body);
    assert.ok(bodies.length >= 25);
    for (let i = 0; i < 25; i++) assert.ok(bodies.includes(`before backup ${i}`));
    const seqs = page.body.items.map((m) => m.seq);
    assert.deepEqual(seqs, seqs.slice().sort((a, b) => a - b));
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 2), 'no gaps (seq 1 is the owner joining)');
  } finally {
    await restored?.stop();
    await server.stop();
    server.cleanup();
    rmSync(copyDir, { recursive: true, force: true });
  }
});

test('an idle session ends on its own and its WebSocket is closed with 4001', async () => {
  const { server, admin } = await startServer({ extraArgs: ['--idle-timeout-seconds', '2'] });
  try {
    const stream = await admin.openEvents();
    const closed = await Promise.race([stream.closed, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 10000))]);
    assert.equal(closed.code, 4001);
    const after = await admin.get('/api/v1/me');
    assert.equal(after.status, 401);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('rounds bench phi prints the scanner\'s figures per type on both halves, and its throughput', () => {
  const r = runCli(['bench', 'phi', '--seconds', '0.2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Held-out templates \(never used for tuning\)/);
  assert.match(r.stdout, /Tuning templates/);
  const heldOut = r.stdout.split('Tuning templates')[0];
  // A row per type with recall, precision and F2; the message-level figures after them.
  for (const type of ['NAME', 'SSN', 'PHONE', 'EMAIL', 'MRN', 'DATE', 'ADDRESS', 'ZIP']) {
    assert.match(heldOut, new RegExp(`^  ${type}\\s+\\d+\\s+[01]\\.\\d{4} \\[`, 'm'), `${type} row`);
  }
  const recall = Number(/any-PHI recall \(span fully covered\)\s+([01]\.\d+)/.exec(heldOut)[1]);
  assert.ok(recall >= 0.95 && recall <= 1, `any-PHI recall ${recall}`);
  assert.match(heldOut, /message leak rate\s+[01]\.\d+/);
  assert.match(heldOut, /false positives per 1,000 PHI-free\s+\d+\.\d+/);
  const mbps = [...r.stdout.matchAll(/([\d.]+) MB\/s/g)].map((m) => Number(m[1]));
  assert.equal(mbps.length, 9, 'mix, PHI-free, documents, the mix as posts follow, in a conversation and naming patients, the floor and the two references');
  assert.ok(mbps.every((v) => v > 0));
  assert.match(r.stdout, /realistic mix, as posts follow\s+[\d.]+ MB\/s/);
  assert.match(r.stdout, /realistic mix, in a conversation\s+[\d.]+ MB\/s/);
  // The mix's messages name patients of the index: a share of a patient a message, never none.
  const named = Number(/realistic mix, naming patients\s+[\d.]+ MB\/s[^]*?audit records: ([\d.]+) patients a message/.exec(r.stdout)?.[1]);
  assert.ok(named > 0.1 && named < 3, `patients a message: ${named}`);
  // PHI split between two posts, on both halves: recall alone and after the first post.
  const split = r.stdout.split('PHI split between two posts, held-out templates')[1]?.split('PHI split between two posts, tuning templates')[0];
  assert.ok(split, r.stdout);
  const [alone, after] = /any-PHI recall \(span fully covered\)\s+([01]\.\d+) \[[^\]]+\]\s+([01]\.\d+)/.exec(split).slice(1).map(Number);
  assert.ok(after > alone, `split recall ${alone} alone, ${after} after the first post`);
  assert.match(split, /PHI-free posts flagged only after the one before: \d+\/\d+, per 1,000 \d+\.\d+/);
  // PHI split between two authors: a reply read after the post it answers.
  const reply = r.stdout.split('PHI split between two authors (a reply), held-out templates')[1]?.split('PHI split between two authors (a reply), tuning templates')[0];
  assert.ok(reply, r.stdout);
  const [replyAlone, asReply] = /any-PHI recall \(span fully covered\)\s+([01]\.\d+) \[[^\]]+\]\s+([01]\.\d+)/.exec(reply).slice(1).map(Number);
  assert.ok(asReply > replyAlone, `reply recall ${replyAlone} alone, ${asReply} as a reply`);
  assert.match(reply, /PHI-free posts flagged only as a reply: \d+\/\d+, per 1,000 \d+\.\d+/);
  assert.match(r.stdout, /floor: words looked up only\s+[\d.]+ MB\/s/);
  assert.match(r.stdout, /reference: shapes, ends only\s+[\d.]+ MB\/s/);
  assert.match(r.stdout, /reference: shapes, with spans\s+[\d.]+ MB\/s/);
  assert.notEqual(runCli(['bench', 'phi', '--seconds', 'forever']).status, 0, 'a bad value is refused');
});
