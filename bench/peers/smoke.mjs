// Smoke test of a benchmark peer (bench/peers/README.md): u0 and u1 sign in over XMPP over
// WebSocket (RFC 7395) with SASL PLAIN, join fanout@conference.bench.local, u0 sends a groupchat
// message that both must receive, then a 1:1 chat message to u1, and both archives (1:1 and the
// room's) must return what was sent. Exits non-zero on the first failure.
//
//   node bench/peers/smoke.mjs ejabberd|prosody|WS_URL
import WebSocket from '../../tests/node_modules/ws/index.js';

const kUrls = {
  ejabberd: 'ws://127.0.0.1:5280/xmpp-websocket',
  prosody: 'ws://127.0.0.1:5290/xmpp-websocket',
};
const kDomain = 'bench.local';
const kRoom = 'fanout@conference.bench.local';
const kPassword = 'bench-password';
const kTimeoutMs = 10000;

const target = process.argv[2] ?? 'ejabberd';
const url = kUrls[target] ?? target;

const xmlEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// One signed-in client. Each WebSocket message carries one complete top-level element (RFC 7395
// section 3.3.3), so matching a frame's text is enough for a smoke test.
class Client {
  constructor(user) {
    this.user = user;
    this.frames = [];
    this.waiters = [];
  }

  async connect() {
    this.ws = new WebSocket(url, 'xmpp');
    this.ws.on('message', (data) => {
      const frame = data.toString();
      this.frames.push(frame);
      for (const waiter of [...this.waiters]) {
        if (waiter.test(frame)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
      }
    });
    await new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
  }

  send(xml) {
    this.ws.send(xml);
  }

  // Resolves with the first frame, already received or still to come, that `test` accepts.
  waitFor(what, test) {
    const seen = this.frames.find(test);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.user}: no ${what} within ${kTimeoutMs} ms; last frames:\n${this.frames.slice(-5).join('\n')}`)), kTimeoutMs);
      this.waiters.push({ test, resolve: (frame) => { clearTimeout(timer); this.frames.splice(this.frames.indexOf(frame), 1); resolve(frame); } });
    });
  }

  openStream() {
    this.send(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${kDomain}" version="1.0"/>`);
    return this.waitFor('stream features', (f) => f.includes('features'));
  }

  async signIn() {
    await this.connect();
    const features = await this.openStream();
    if (!/<mechanism>PLAIN<\/mechanism>/.test(features)) throw new Error(`${this.user}: PLAIN not offered: ${features}`);
    const credentials = Buffer.from(`\0${this.user}\0${kPassword}`).toString('base64');
    this.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${credentials}</auth>`);
    const outcome = await this.waitFor('SASL outcome', (f) => /<(success|failure)/.test(f));
    if (!outcome.includes('<success')) throw new Error(`${this.user}: SASL failed: ${outcome}`);
    await this.openStream();
    this.send(`<iq xmlns="jabber:client" type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>smoke</resource></bind></iq>`);
    await this.iqResult('bind');
    this.send(`<iq xmlns="jabber:client" type="set" id="session"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>`);
    await this.waitFor('session reply', (f) => f.includes('id="session"') || f.includes("id='session'"));
    this.send('<presence xmlns="jabber:client"/>');
  }

  async iqResult(id) {
    const reply = await this.waitFor(`reply to iq ${id}`, (f) => f.startsWith('<iq') && (f.includes(`id="${id}"`) || f.includes(`id='${id}'`)));
    if (!/type=["']result["']/.test(reply)) throw new Error(`${this.user}: iq ${id} failed: ${reply}`);
    return reply;
  }

  async joinRoom() {
    this.send(`<presence xmlns="jabber:client" to="${kRoom}/${this.user}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`);
    // Self-presence carries status code 110 (XEP-0045 section 7.2.2).
    const presence = await this.waitFor('room self-presence', (f) => f.startsWith('<presence') && f.includes(`${kRoom}/${this.user}`) && /code=["']110["']/.test(f));
    if (/type=["']error["']/.test(presence)) throw new Error(`${this.user}: join failed: ${presence}`);
  }

  // Asks `archive` (own archive when null) for everything and returns the result frames' text.
  async queryArchive(archive, id) {
    this.send(`<iq xmlns="jabber:client" type="set" id="${id}"${archive ? ` to="${archive}"` : ''}><query xmlns="urn:xmpp:mam:2" queryid="${id}"/></iq>`);
    await this.iqResult(id);
    return this.frames.filter((f) => f.includes(`queryid="${id}"`) || f.includes(`queryid='${id}'`)).join('\n');
  }

  close() {
    this.send('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
    this.ws.close();
  }
}

const step = async (name, fn) => {
  const t0 = performance.now();
  await fn();
  console.log(`ok  ${name} (${(performance.now() - t0).toFixed(0)} ms)`);
};

const u0 = new Client('u0');
const u1 = new Client('u1');
const stamp = Date.now();
const groupBody = `fanout smoke ${stamp}`;
const chatBody = `direct smoke ${stamp}`;
try {
  console.log(`smoke test of ${url}`);
  await step('u0 and u1 sign in (SASL PLAIN, bind)', () => Promise.all([u0.signIn(), u1.signIn()]));
  await step(`both join ${kRoom}`, async () => {
    await u0.joinRoom();
    await u1.joinRoom();
  });
  await step('groupchat message reaches both occupants', async () => {
    u0.send(`<message xmlns="jabber:client" to="${kRoom}" type="groupchat" id="g${stamp}"><body>${xmlEscape(groupBody)}</body></message>`);
    await Promise.all([u0, u1].map((c) => c.waitFor('groupchat message', (f) => f.startsWith('<message') && f.includes(groupBody))));
  });
  await step('1:1 chat message reaches u1', async () => {
    u0.send(`<message xmlns="jabber:client" to="u1@${kDomain}" type="chat" id="c${stamp}"><body>${xmlEscape(chatBody)}</body></message>`);
    await u1.waitFor('chat message', (f) => f.startsWith('<message') && f.includes(chatBody));
  });
  await step('MAM: the room archive holds the groupchat message', async () => {
    const results = await u1.queryArchive(kRoom, `r${stamp}`);
    if (!results.includes(groupBody)) throw new Error(`room archive lacks the message:\n${results.slice(-500)}`);
  });
  await step("MAM: u0's and u1's archives hold the 1:1 message", async () => {
    for (const c of [u0, u1]) {
      const results = await c.queryArchive(null, `a${c.user}${stamp}`);
      if (!results.includes(chatBody)) throw new Error(`${c.user}'s archive lacks the message:\n${results.slice(-500)}`);
    }
  });
  console.log('smoke test passed');
} catch (error) {
  console.error(`smoke test FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  for (const c of [u0, u1]) if (c.ws) c.close();
}
