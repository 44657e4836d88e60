// Logs never carry message bodies, passwords, tokens, cookies or search text: canaries are planted
// through every path that handles them, then the server's whole log file is scanned.
import test from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, createSpace } from './fixtures.mjs';

test('planted canaries never reach the log', async () => {
  const { server, admin } = await startServer();
  try {
    const canaries = {
      password: 'CANARYPASSWORD7731 long enough',
      body: 'CANARYBODY5512 patient details',
      title: 'CANARYTITLE9001',
      search: 'CANARYSEARCH4420',
      wrong_password: 'CANARYWRONGPW3307 guess',
      username_crlf: 'canary\r\n{"event":"forged"}',
      edit: 'CANARYEDIT6604',
      user_query: 'CANARYUSERQUERY2210',
      discover_query: 'CANARYDISCOVER8812',
      api_path: 'CANARYAPIPATH1177',
      static_path: 'CANARYSTATICPATH5530',
      user_agent: 'CANARYUSERAGENT4471',
      csrf: 'CANARYCSRF9934',
      typing_frame: 'CANARYFRAME3390',
    };
    const created = await admin.post('/api/v1/users', { username: 'logtest', display_name: 'Log Test', password: canaries.password });
    assert.equal(created.status, 201);
    const user = server.client();
    const login = await user.login('logtest', canaries.password);
    const cookieUser = server.client();
    await cookieUser.login('logtest', canaries.password, { cookie: true });
    await server.client().post('/api/v1/auth/login', { username: 'logtest', password: canaries.wrong_password });
    await server.client().post('/api/v1/auth/login', { username: canaries.username_crlf, password: canaries.wrong_password });
    const space = await createSpace(user, { name: 'Log Space' });
    const m = await user.post(`/api/v1/spaces/${space.id}/messages`, { kind: 'discussion', title: canaries.title, body: canaries.body });
    await user.patch(`/api/v1/messages/${m.body.id}`, { body: canaries.edit });
    await user.get(`/api/v1/search?q=${encodeURIComponent(canaries.search)}`);
    await user.post(`/api/v1/spaces/${space.id}/messages`, { body: canaries.body, colour: 'bad request with a body' });
    await user.get(`/api/v1/users?q=${canaries.user_query}`);
    await user.get(`/api/v1/spaces?scope=discover&q=${canaries.discover_query}`);
    await user.get(`/api/v1/${canaries.api_path}`);
    await fetch(`${server.baseUrl}/${canaries.static_path}`);
    await user.get('/api/v1/me', { headers: { 'user-agent': canaries.user_agent } });
    const realCsrf = cookieUser.csrf;
    cookieUser.csrf = canaries.csrf;
    assert.equal((await cookieUser.post('/api/v1/spaces', { name: 'x' })).status, 403);
    cookieUser.csrf = realCsrf;
    const ws = new WebSocket(server.baseUrl.replace('http', 'ws') + '/api/v1/events', { headers: { authorization: `Bearer ${login.token}` } });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'resume', cursors: { [space.id]: 0 }, note: canaries.body }));
    ws.send(canaries.body);
    ws.send(JSON.stringify({ type: 'typing', space_id: space.id, note: canaries.typing_frame }));
    ws.send(JSON.stringify({ type: canaries.typing_frame }));
    await new Promise((r) => setTimeout(r, 300));
    ws.close();
    await user.post('/api/v1/auth/logout');
    await server.stop();

    const logs = server.logs();
    assert.ok(logs.includes('"event":"http_request"'), 'the server did log requests');
    for (const [name, value] of Object.entries(canaries)) {
      const needle = name === 'username_crlf' ? 'forged' : value.split(' ')[0];
      assert.ok(!logs.includes(needle), `${name} canary leaked into the log`);
    }
    assert.ok(!logs.includes(login.token), 'a bearer token leaked');
    assert.ok(!logs.includes(cookieUser.cookie.split('=')[1]), 'a session cookie leaked');
    assert.ok(!logs.includes(cookieUser.csrf), 'a CSRF token leaked');
    // Every line is one JSON object: CR/LF in input cannot forge lines.
    for (const line of logs.split('\n').filter(Boolean)) JSON.parse(line);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
