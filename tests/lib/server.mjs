// Starts the real `rounds` binary on a random loopback port over a fresh temporary data folder,
// and gives tests small HTTP and WebSocket clients for it. Every test file uses this; nothing
// here fakes the server.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const roundsBinary = process.env.ROUNDS_BINARY || path.join(repoRoot, 'build', 'rounds');

export const ADMIN = { username: 'admin', password: 'integration-root-secret-2026' };
const SECRETS_NEVER_LOGGED = [ADMIN.password, 'integration-password-2026', 'a-brand-new-passphrase'];

// Runs a `rounds` sub-command to completion; returns {status, stdout, stderr}.
export function runCli(args, { dataDir, input, env = {} } = {}) {
  const fullArgs = dataDir ? [...args, '--data-dir', dataDir] : args;
  const result = spawnSync(roundsBinary, fullArgs, { input, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export class RoundsServer {
  // `binary` and `cwd`: another copy of the binary, started from another folder (an install's
  // layout); by default the build's, from this process's folder.
  constructor({ dataDir, extraArgs = [], env = {}, binary = roundsBinary, cwd } = {}) {
    this.binary = binary;
    this.cwd = cwd;
    this.ownsDataDir = !dataDir;
    this.dataDir = dataDir || mkdtempSync(path.join(tmpdir(), 'rounds-test-'));
    this.extraArgs = extraArgs;
    this.env = env;
    this.logFile = path.join(this.dataDir, 'server.log');
    this.port = 0;
  }

  // Creates the admin account (idempotent: an existing admin is left as it is).
  bootstrapAdmin() {
    const r = runCli(['admin', 'user', 'add', '--username', ADMIN.username, '--display-name', 'Test Admin',
      '--email', 'admin@example.org', '--job-role', 'Administrator', '--admin', '--password-stdin'],
      { dataDir: this.dataDir, input: ADMIN.password + '\n', env: this.env });
    if (r.status !== 0 && !/exists/.test(r.stderr + r.stdout)) {
      throw new Error(`admin bootstrap failed: ${r.stderr}${r.stdout}`);
    }
  }

  async start({ port = 0 } = {}) {
    const args = ['serve', '--data-dir', this.dataDir, '--port', String(port || this.port || 0),
      '--log-file', this.logFile, ...this.extraArgs];
    this.process = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.cwd, env: { ...process.env, ...this.env } });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    let output = '';
    this.process.stdout.on('data', (d) => { output += d; });
    this.process.stderr.on('data', (d) => { output += d; });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const port = this.readListeningPort();
      if (port) {
        this.port = port;
        this.baseUrl = `http://127.0.0.1:${port}`;
        return this;
      }
      if (this.process.exitCode !== null) throw new Error(`rounds exited early: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`rounds did not start listening: ${output}`);
  }

  // The server logs {"event":"listening","port":N} once it accepts connections. Only the newest
  // such line counts, so a restarted server is picked up correctly.
  readListeningPort() {
    if (!existsSync(this.logFile)) return 0;
    const lines = readFileSync(this.logFile, 'utf8').split('\n').filter(Boolean);
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const entry = JSON.parse(lines[i]);
        if (entry.event === 'listening' && entry.pid === this.process.pid) return entry.port;
      } catch { /* partial line */ }
    }
    return 0;
  }

  async stop(signal = 'SIGTERM') {
    if (!this.process || this.process.exitCode !== null) return;
    this.process.kill(signal);
    await this.exited;
  }

  async restart() {
    await this.stop();
    return this.start({ port: this.port });
  }

  logs() { return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : ''; }

  // Every test server's log is scanned before it is thrown away: the passwords every suite uses
  // must never appear (message bodies and tokens are checked by integration/logs.test.mjs).
  cleanup() {
    const logs = this.logs();
    for (const secret of SECRETS_NEVER_LOGGED) {
      if (logs.includes(secret)) throw new Error(`a secret leaked into the server log: ${secret.slice(0, 4)}…`);
    }
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  client() { return new ApiClient(this.baseUrl); }
}

// A JSON client holding a bearer token (or a cookie + CSRF token when `cookie` is chosen).
export class ApiClient {
  constructor(baseUrl) { this.baseUrl = baseUrl; this.token = null; this.cookie = null; this.csrf = null; }

  async login(username, password, { cookie = false } = {}) {
    const res = await this.request('POST', '/api/v1/auth/login', { username, password, bearer: !cookie });
    if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
    if (cookie) {
      this.cookie = res.headers.get('set-cookie').split(';')[0];
      this.csrf = res.body.csrf_token;
    } else {
      this.token = res.body.token;
    }
    this.user = res.body.user;
    return res.body;
  }

  // Takes up administration in this session (administrators only): the password again, and a
  // code when the account has two-step sign-in.
  async elevate(password, code) {
    const res = await this.request('POST', '/api/v1/auth/elevation', code ? { password, code } : { password });
    if (res.status !== 200) throw new Error(`elevate failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.admin_elevated_until;
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf) h['x-csrf-token'] = this.csrf;
    return h;
  }

  async request(method, urlPath, body, { headers = {}, raw = false } = {}) {
    const init = { method, headers: this.headers(headers) };
    if (body !== undefined) {
      init.body = raw ? body : JSON.stringify(body);
      if (!init.headers['content-type']) init.headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.baseUrl + urlPath, init);
    const text = await res.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get(p, opts) { return this.request('GET', p, undefined, opts); }
  post(p, body, opts) { return this.request('POST', p, body ?? {}, opts); }
  patch(p, body, opts) { return this.request('PATCH', p, body, opts); }
  put(p, body, opts) { return this.request('PUT', p, body, opts); }
  del(p, opts) { return this.request('DELETE', p, undefined, opts); }

  // Opens the event stream; resolves once the socket is open.
  openEvents({ origin } = {}) {
    const url = this.baseUrl.replace(/^http/, 'ws') + '/api/v1/events';
    const headers = this.headers();
    delete headers['x-csrf-token'];
    if (origin) headers.origin = origin;
    const ws = new WebSocket(url, { headers });
    const stream = new EventStream(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(stream));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`ws ${res.statusCode}`), { statusCode: res.statusCode })));
      ws.once('error', reject);
    });
  }
}

// Collects frames from a socket and lets tests wait for the ones they expect.
export class EventStream {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !w.check());
    });
  }
  send(obj) { this.ws.send(JSON.stringify(obj)); }
  // Resolves with the first frame (already received or future) matching `predicate`.
  waitFor(predicate, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          const f = this.frames.find(predicate);
          if (f) { clearTimeout(waiter.timer); resolve(f); return true; }
          return false;
        },
      };
      if (waiter.check()) return;
      waiter.timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push(waiter);
    });
  }
  events(spaceId) { return this.frames.filter((f) => f.type === 'event' && (spaceId === undefined || f.space_id === spaceId)); }
  close() { this.ws.close(); return this.closed; }
}
