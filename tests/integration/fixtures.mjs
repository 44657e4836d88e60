// Shared set-up for integration tests: a server with an admin and a few staff accounts.
import { RoundsServer, ApiClient, ADMIN } from '../lib/server.mjs';

export const PASSWORD = 'integration-password-2026';

export async function startServer(options = {}) {
  const server = new RoundsServer(options);
  server.bootstrapAdmin();
  await server.start();
  const admin = server.client();
  await admin.login(ADMIN.username, ADMIN.password);
  // Administration is taken up in the session, unless a policy wants two-step set up first.
  if (!(await admin.get('/api/v1/me')).body.mfa_enrollment_required) await admin.elevate(ADMIN.password);
  return { server, admin };
}

// Creates one account through the API (`fields` over a staff nurse's) and returns its signed-in
// bearer client (the account as `client.user`).
export async function createAccount(server, admin, username, fields = {}) {
  const res = await admin.post('/api/v1/users', {
    username, display_name: `User ${username}`, email: `${username}@example.org`,
    job_role: 'Registered Nurse', password: PASSWORD, ...fields,
  });
  if (res.status !== 201) throw new Error(`create ${username}: ${res.status} ${res.text}`);
  const client = server.client();
  await client.login(username, PASSWORD);
  return client;
}

// Creates staff accounts through the API and returns signed-in bearer clients by username.
export async function createUsers(server, admin, usernames) {
  const clients = {};
  for (const username of usernames) clients[username] = await createAccount(server, admin, username);
  return clients;
}

export async function createSpace(client, body) {
  const res = await client.post('/api/v1/spaces', { kind: 'community', ...body });
  if (res.status !== 201) throw new Error(`create space: ${res.status} ${res.text}`);
  return res.body;
}

export async function addMember(owner, spaceId, userId, role = 'member') {
  const res = await owner.post(`/api/v1/spaces/${spaceId}/members`, { user_id: userId, role });
  if (res.status !== 201) throw new Error(`add member: ${res.status} ${res.text}`);
  return res.body;
}

// A compliance officer's signed-in client.
export async function createOfficer(server, admin, username = 'olga') {
  return createAccount(server, admin, username,
    { display_name: `${username} (compliance)`, job_role: 'Privacy Officer', is_compliance: true });
}

// A guest's signed-in client: an account from outside the organization.
export async function createGuest(server, admin, username) {
  return createAccount(server, admin, username,
    { display_name: `${username} (guest)`, email: `${username}@example.com`, job_role: 'Consultant', is_guest: true });
}

// A new version of template `key`, its latest document changed by `change`, assigned to the space.
// Returns the version's number.
export async function assignNewVersion(officer, spaceId, key, change, reason = 'a stricter version') {
  const { items } = (await officer.get('/api/v1/templates')).body;
  const latest = items.filter((t) => t.key === key).sort((a, b) => b.version - a.version)[0];
  const document = change({ ...structuredClone(latest.document), version: latest.version + 1 });
  const made = await officer.post(`/api/v1/templates/${key}/versions`, { document });
  if (made.status !== 201) throw new Error(`new version of ${key}: ${made.status} ${made.text}`);
  const assigned = await officer.post(`/api/v1/spaces/${spaceId}/template`, { key, version: made.body.version, reason });
  if (assigned.status !== 200) throw new Error(`assign ${key} v${made.body.version}: ${assigned.status} ${assigned.text}`);
  return made.body.version;
}

export { ApiClient };
