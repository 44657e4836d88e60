// Shared set-up for integration tests: a server with an admin and a few staff accounts.
import { RoundsServer, ApiClient, ADMIN } from '../lib/server.mjs';

export const PASSWORD = 'integration-password-2026';

export async function startServer(options = {}) {
  const server = new RoundsServer(options);
  server.bootstrapAdmin();
  await server.start();
  const admin = server.client();
  await admin.login(ADMIN.username, ADMIN.password);
  return { server, admin };
}

// Creates staff accounts through the API and returns signed-in bearer clients by username.
export async function createUsers(server, admin, usernames) {
  const clients = {};
  for (const username of usernames) {
    const res = await admin.post('/api/v1/users', {
      username, display_name: `User ${username}`, email: `${username}@example.org`,
      job_role: 'Registered Nurse', password: PASSWORD,
    });
    if (res.status !== 201) throw new Error(`create ${username}: ${res.status} ${res.text}`);
    const client = server.client();
    await client.login(username, PASSWORD);
    clients[username] = client;
  }
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

export { ApiClient };
