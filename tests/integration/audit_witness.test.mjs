// The audit trail's witness off the host: the server sends every checkpoint it signs to a
// collector (here a TCP listener reading RFC 6587 octet-counted syslog frames, as rsyslog's imtcp
// does), keeps sending across the collector's restart, and `rounds audit verify --witness` checks
// the trail against the collector's copy, which catches a tail cut from the database together with
// the checkpoint lines above the cut, where the host's own files no longer can. Over TLS (RFC 5425)
// the collector is a TLS listener that asks for the server's certificate, with certificates made by
// the openssl command for the test.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RoundsServer, runCli } from '../lib/server.mjs';
import { startServer, createUsers, createOfficer } from './fixtures.mjs';

const MARKER = 'rounds-audit-checkpoint ';
const FEED = 'rounds-audit-record ';

// A syslog collector over TCP with octet counting; `messages` grows as frames arrive.
// With `tlsOptions` it listens with TLS, and `peers` holds each sender's certificate name and protocol.
class Collector {
  constructor(tlsOptions = null) { this.messages = []; this.sockets = new Set(); this.tlsOptions = tlsOptions; this.peers = []; this.refusals = []; }
  async listen(port = 0) {
    const onConnection = (socket) => {
      this.sockets.add(socket);
      if (this.tlsOptions) this.peers.push({ name: socket.getPeerCertificate().subject?.CN, protocol: socket.getProtocol() });
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const space = pending.indexOf(0x20);
          if (space < 0) break;
          const length = Number(pending.subarray(0, space).toString());
          if (pending.length < space + 1 + length) break;
          this.messages.push(pending.subarray(space + 1, space + 1 + length).toString());
          pending = pending.subarray(space + 1 + length);
        }
      });
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
    };
    this.server = this.tlsOptions ? tls.createServer(this.tlsOptions, onConnection) : net.createServer(onConnection);
    this.server.on('tlsClientError', (error) => this.refusals.push(error.message));
    await new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = this.server.address().port;
  }
  // Closing a collector that is not listening does nothing more than drop its connections: every
  // test also closes its collector when it ends (t.after), so that a test that fails does not leave
  // it listening and the file waiting for it.
  async close() {
    for (const socket of this.sockets) socket.destroy();
    if (!this.server?.listening) return;
    await new Promise((resolve) => this.server.close(resolve));
  }
  checkpoints() { return this.messages.filter((m) => m.includes(MARKER)).map((m) => m.slice(m.indexOf(MARKER) + MARKER.length)); }
  async waitFor(predicate, what) {
    for (let i = 0; i < 200; i++) {
      if (predicate()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`timed out waiting for ${what}: ${JSON.stringify(this.messages)}`);
  }
}

const seqOf = (line) => Number(line.split(' ')[0]);

test('every checkpoint reaches the collector, and verification against its copy catches a cut tail', async (t) => {
  const collector = new Collector();
  t.after(() => collector.close());
  await collector.listen();
  const { server, admin } = await startServer({
    env: { ROUNDS_AUDIT_CHECKPOINT_SECONDS: '1', ROUNDS_DATABASE_ENCRYPTION: 'false', ROUNDS_AUDIT_WITNESS: `127.0.0.1:${collector.port}` },
  });
  try {
    // The head the server starts from leaves the host at once.
    await collector.waitFor(() => collector.checkpoints().length >= 1, 'the first checkpoint');
    const first = collector.messages[0];
    assert.match(first, /^<85>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ rounds \d+ checkpoint - rounds-audit-checkpoint /);
    const metrics = (await server.client().get('/metrics')).text;
    assert.match(metrics, /^rounds_audit_witness_connected 1$/m);
    assert.match(metrics, /^rounds_audit_witness_dropped_total 0$/m);

    // The collector restarts: what is signed meanwhile arrives once it is back.
    const before = collector.checkpoints().length;
    await collector.close();
    await createUsers(server, admin, ['uma', 'vik']);
    await new Promise((r) => setTimeout(r, 1500));  // a checkpoint is signed while it is down
    await collector.listen(collector.port);
    await collector.waitFor(() => collector.checkpoints().length > before, 'the checkpoints signed while it was down');
    await createUsers(server, admin, ['wen']);
    const heads = collector.checkpoints().length;
    await collector.waitFor(() => collector.checkpoints().length > heads, 'a checkpoint of the latest records');
  } finally {
    await server.stop();
  }
  // The shutdown's checkpoint too: the collector holds every line of the checkpoint file.
  const checkpointFile = path.join(server.dataDir, 'audit', 'checkpoints.log');
  const local = readFileSync(checkpointFile, 'utf8').trim().split('\n');
  await collector.waitFor(() => local.every((line) => collector.checkpoints().includes(line)), 'every checkpoint of the file');
  await collector.close();
  const witnessFile = path.join(server.dataDir, 'collector.log');
  writeFileSync(witnessFile, collector.messages.map((m) => `Dec  6 05:00:00 ward-host ${m}`).join('\n') + '\n');

  const ok = runCli(['audit', 'verify', '--witness', witnessFile], { dataDir: server.dataDir });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const checked = Number(ok.stdout.match(/checkpoints: (\d+)/)[1]);
  assert.ok(checked >= local.length + collector.checkpoints().length, ok.stdout);

  // Someone with the host cuts the trail after an earlier checkpoint, and the checkpoint lines
  // above the cut with it (and trims the search indexes): the host's own files agree again.
  const seqs = [...new Set(local.map(seqOf))].filter((s) => s > 0).sort((a, b) => a - b);
  assert.ok(seqs.length >= 3, `checkpoints at several heads: ${seqs}`);
  const cut = seqs[seqs.length - 2];
  const db = path.join(server.dataDir, 'rounds.db');
  const sql = spawnSync('sqlite3', [db,
    'DROP TRIGGER audit_log_no_delete; ' +
    `DELETE FROM audit_log WHERE seq > ${cut}; DELETE FROM audit_index_actor WHERE seq > ${cut}; ` +
    `DELETE FROM audit_index_object WHERE seq > ${cut}; UPDATE audit_index_state SET indexed_seq = min(indexed_seq, ${cut});`],
  { encoding: 'utf8' });
  assert.equal(sql.status, 0, sql.stderr);
  writeFileSync(checkpointFile, local.filter((line) => seqOf(line) <= cut).join('\n') + '\n');
  const onHost = runCli(['audit', 'verify'], { dataDir: server.dataDir });
  assert.equal(onHost.status, 0, 'the host alone cannot tell: ' + onHost.stdout + onHost.stderr);
  const witnessed = runCli(['audit', 'verify', '--witness', witnessFile], { dataDir: server.dataDir });
  assert.equal(witnessed.status, 1, witnessed.stdout + witnessed.stderr);
  assert.match(witnessed.stdout, /TAMPERED: .*records were removed/);

  // A line of the collector's file that is not a checkpoint is named, not skipped.
  writeFileSync(witnessFile, `Dec  6 05:00:00 ward-host ${MARKER}12 not-a-hash\n`);
  const bad = runCli(['audit', 'verify', '--witness', witnessFile], { dataDir: server.dataDir });
  assert.equal(bad.status, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /Line 1 of .* does not parse/);
  server.cleanup();
});

// A certificate authority, the collector's certificate (for 127.0.0.1 and collector.test) and this
// server's (for mutual TLS), made with the openssl command.
function makeCertificates() {
  const dir = mkdtempSync(path.join(tmpdir(), 'rounds-witness-tls-'));
  const at = (name) => path.join(dir, name);
  const openssl = (...args) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...key, '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '2', '-subj', '/CN=Witness Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const [name, san] of [['collector', 'DNS:collector.test,IP:127.0.0.1'], ['rounds', 'DNS:rounds-node-1.test']]) {
    openssl('req', ...key, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${name === 'rounds' ? 'rounds-node-1' : 'collector.test'}`);
    writeFileSync(at(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\n`);
    openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial',
      '-out', at(`${name}.crt`), '-days', '2', '-extfile', at(`${name}.ext`));
  }
  // The authority's revocation lists, made as a CA's own tooling does: one that revokes the
  // collector's certificate and one that revokes nothing.
  writeFileSync(at('ca.cnf'), [
    '[ca]', 'default_ca = local', '[local]', `database = ${at('index.txt')}`, `crlnumber = ${at('crlnumber')}`,
    'default_md = sha256', 'default_crl_days = 2', '',
  ].join('\n'));
  const ca = ['-config', at('ca.cnf'), '-cert', at('ca.crt'), '-keyfile', at('ca.key')];
  writeFileSync(at('index.txt'), '');
  writeFileSync(at('crlnumber'), '01\n');
  openssl('ca', ...ca, '-gencrl', '-out', at('clean.crl'));
  openssl('ca', ...ca, '-valid', at('collector.crt'));
  openssl('ca', ...ca, '-revoke', at('collector.crt'), '-crl_reason', 'keyCompromise');
  openssl('ca', ...ca, '-gencrl', '-out', at('revoked.crl'));
  return { dir, at };
}

function tlsCollector(certs) {
  return new Collector({
    key: readFileSync(certs.at('collector.key')), cert: readFileSync(certs.at('collector.crt')),
    ca: readFileSync(certs.at('ca.crt')), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2',
  });
}

test('over TLS the checkpoints reach a collector that verifies the server, and the server verifies the collector', async (t) => {
  const certs = makeCertificates();
  const collector = tlsCollector(certs);
  t.after(() => collector.close());
  await collector.listen();
  const tlsEnv = {
    ROUNDS_AUDIT_WITNESS: `127.0.0.1:${collector.port}`, ROUNDS_AUDIT_WITNESS_TLS: 'true',
    ROUNDS_AUDIT_WITNESS_CA_FILE: certs.at('ca.crt'),
    ROUNDS_AUDIT_WITNESS_CERT_FILE: certs.at('rounds.crt'), ROUNDS_AUDIT_WITNESS_KEY_FILE: certs.at('rounds.key'),
    ROUNDS_AUDIT_WITNESS_CRL_FILE: certs.at('clean.crl'),
  };
  // The audit feed on as well: every record after the start, as a FHIR AuditEvent.
  const { server, admin } = await startServer({ env: { ROUNDS_AUDIT_CHECKPOINT_SECONDS: '1', ROUNDS_AUDIT_FEED: 'true', ...tlsEnv } });
  const fed = () => collector.messages.filter((m) => m.includes(FEED)).map((m) => JSON.parse(m.slice(m.indexOf(FEED) + FEED.length)));
  try {
    await collector.waitFor(() => collector.checkpoints().length >= 1, 'the first checkpoint over TLS');
    assert.match(collector.messages[0], /^<85>1 \S+ \S+ rounds \d+ checkpoint - rounds-audit-checkpoint /);
    assert.deepEqual(collector.peers[0], { name: 'rounds-node-1', protocol: 'TLSv1.3' });
    const metrics = (await server.client().get('/metrics')).text;
    assert.match(metrics, /^rounds_audit_witness_connected 1$/m);
    await createUsers(server, admin, ['xia']);
    const heads = collector.checkpoints().length;
    await collector.waitFor(() => collector.checkpoints().length > heads, 'a checkpoint of the new records');
    const actionOf = (event) => event.subtype.find((c) => c.system === 'urn:rounds:audit-action').code;
    await collector.waitFor(() => fed().some((e) => actionOf(e) === 'user.create'), 'the new account on the feed');
    const events = fed();
    const created = events.find((e) => actionOf(e) === 'user.create');
    assert.equal(created.resourceType, 'AuditEvent');
    const me = (await admin.get('/api/v1/me')).body.user;
    assert.ok(me.id);
    assert.equal(created.agent[0].who.identifier.value, String(me.id), 'the admin who made it');
    assert.match(collector.messages.find((m) => m.includes(FEED)), /^<\d+>1 \S+ \S+ rounds \d+ audit - rounds-audit-record \{/);
    const ids = events.map((e) => Number(e.id));
    assert.deepEqual(ids, ids.map((_, i) => ids[0] + i), 'every record once, in order');
    assert.match((await server.client().get('/metrics')).text, /^rounds_audit_feed_sent_total [1-9]\d*$/m);
    // The audit page's verification status says where the checkpoints go and that they get there.
    const officer = await createOfficer(server, admin);
    const { witness } = (await officer.get('/api/v1/audit/verify')).body;
    assert.equal(witness.address, `127.0.0.1:${collector.port}`);
    assert.equal(witness.tls, true);
    assert.equal(witness.connected, true);
    assert.equal(witness.feed, true);
    assert.ok(witness.last_sent_at > Date.now() - 60_000, JSON.stringify(witness));
    assert.equal(witness.dropped, 0);
  } finally {
    await server.stop();
  }
  const local = readFileSync(path.join(server.dataDir, 'audit', 'checkpoints.log'), 'utf8').trim().split('\n');
  await collector.waitFor(() => local.every((line) => collector.checkpoints().includes(line)), 'every checkpoint of the file');
  assert.equal(collector.peers.length, 1, 'one connection carried them all');
  server.cleanup();

  // A collector whose certificate does not carry the name it is reached by gets nothing, and the
  // log says why; so does one that wants a certificate from a server that has none.
  for (const [env, why] of [
    [{ ...tlsEnv, ROUNDS_AUDIT_WITNESS_SERVER_NAME: 'siem.example.org' }, /certificate verify failed: hostname mismatch/],
    [{ ...tlsEnv, ROUNDS_AUDIT_WITNESS_CERT_FILE: '', ROUNDS_AUDIT_WITNESS_KEY_FILE: '' }, /tls handshake: .*certificate required/],
    [{ ...tlsEnv, ROUNDS_AUDIT_WITNESS_CRL_FILE: certs.at('revoked.crl') }, /certificate verify failed: certificate revoked/],
  ]) {
    const before = collector.messages.length;
    const refused = await startServer({ env });
    try {
      const deadline = Date.now() + 10_000;
      while (!/audit_witness_unreachable/.test(refused.server.logs()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const line = refused.server.logs().split('\n').find((l) => l.includes('audit_witness_unreachable'));
      assert.ok(line, 'the outage is logged');
      assert.match(JSON.parse(line).detail, why);
      assert.match((await refused.server.client().get('/metrics')).text, /^rounds_audit_witness_connected 0$/m);
      assert.equal(collector.messages.length, before, 'nothing reached the collector');
    } finally {
      await refused.server.stop();
      refused.server.cleanup();
    }
  }
  await collector.close();
  rmSync(certs.dir, { recursive: true, force: true });
});

test('the revocation list is read again before each connection: the collector is reached once it is no longer revoked', async () => {
  const certs = makeCertificates();
  const collector = tlsCollector(certs);
  await collector.listen();
  const crl = certs.at('current.crl');
  copyFileSync(certs.at('revoked.crl'), crl);
  const { server } = await startServer({ env: {
    ROUNDS_AUDIT_WITNESS: `127.0.0.1:${collector.port}`, ROUNDS_AUDIT_WITNESS_TLS: 'true', ROUNDS_AUDIT_CHECKPOINT_SECONDS: '1',
    ROUNDS_AUDIT_WITNESS_CA_FILE: certs.at('ca.crt'), ROUNDS_AUDIT_WITNESS_CRL_FILE: crl,
    ROUNDS_AUDIT_WITNESS_CERT_FILE: certs.at('rounds.crt'), ROUNDS_AUDIT_WITNESS_KEY_FILE: certs.at('rounds.key'),
  } });
  try {
    const deadline = Date.now() + 10_000;
    while (!/audit_witness_unreachable/.test(server.logs()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(server.logs(), /certificate verify failed: certificate revoked/);
    assert.equal(collector.messages.length, 0);
    // The authority publishes a list without it (say, the revocation was a mistake); no restart.
    copyFileSync(certs.at('clean.crl'), crl);
    await collector.waitFor(() => collector.checkpoints().length >= 1, 'a checkpoint once the list is fresh');
    assert.match(server.logs(), /audit_witness_reached/);
  } finally {
    await server.stop();
    server.cleanup();
    await collector.close();
    rmSync(certs.dir, { recursive: true, force: true });
  }
});

test('TLS settings that cannot work stop the server from starting, and say why', async () => {
  const certs = makeCertificates();
  const cases = [
    [{ ROUNDS_AUDIT_WITNESS: '127.0.0.1:6514', ROUNDS_AUDIT_WITNESS_CA_FILE: certs.at('ca.crt') }, /would be sent in the clear/],
    [{ ROUNDS_AUDIT_WITNESS: '127.0.0.1:6514', ROUNDS_AUDIT_WITNESS_TLS: 'true', ROUNDS_AUDIT_WITNESS_CA_FILE: certs.at('nowhere.crt') }, /TLS CA file .*nowhere\.crt cannot be used/],
    [{ ROUNDS_AUDIT_WITNESS: '127.0.0.1:6514', ROUNDS_AUDIT_WITNESS_TLS: 'true', ROUNDS_AUDIT_WITNESS_CA_FILE: certs.at('ca.crt'),
      ROUNDS_AUDIT_WITNESS_CERT_FILE: certs.at('rounds.crt'), ROUNDS_AUDIT_WITNESS_KEY_FILE: certs.at('collector.key') }, /is not the key of the certificate/],
    [{ ROUNDS_AUDIT_WITNESS: '127.0.0.1:6514', ROUNDS_AUDIT_WITNESS_TLS: 'true', ROUNDS_AUDIT_WITNESS_CA_FILE: certs.at('ca.crt'),
      ROUNDS_AUDIT_WITNESS_CRL_FILE: certs.at('ca.crt') }, /TLS CRL file .*ca\.crt holds no revocation list/],
    [{ ROUNDS_AUDIT_WITNESS_TLS: 'true' }, /TLS settings are set, but audit_witness is not/],
    [{ ROUNDS_AUDIT_WITNESS: '192.0.2.10:514', ROUNDS_AUDIT_FEED: 'true' }, /audit_feed would send the audit records, which name patients, to 192\.0\.2\.10:514 in the clear/],
  ];
  for (const [env, why] of cases) {
    const server = new RoundsServer({ env });
    server.bootstrapAdmin();
    await assert.rejects(server.start(), (error) => { assert.match(error.message, why); return true; });
    server.cleanup();
  }
  rmSync(certs.dir, { recursive: true, force: true });
});
