// Debian's Chromium driven by playwright-core: one isolated, throw-away profile per simulated
// person. Never downloads a browser.
import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, createUsers, PASSWORD } from '../integration/fixtures.mjs';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const webDist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');
export { PASSWORD };

/** A real server serving the built web app, with an admin and the given staff accounts. */
// `env` sets server settings (ROUNDS_*) for tests that need them.
export async function startAppServer(usernames, { env = {} } = {}) {
  if (!existsSync(path.join(webDist, 'index.html'))) {
    throw new Error('web/dist is missing: build the web app first (npm --prefix web ci && npm --prefix web run build)');
  }
  const { server, admin } = await startServer({ extraArgs: ['--web-root', webDist], env });
  const users = await createUsers(server, admin, usernames);
  return { server, admin, users };
}

// bypassCSP: the page's Content-Security-Policy is not enforced, to test what the app renders
// without the policy's second line of defence.
export async function openBrowser({ width = 1280, height = 800, bypassCSP = false } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rounds-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS,
    viewport: { width, height }, bypassCSP,
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    context, page, errors,
    async close() { await context.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

export async function signIn(page, baseUrl, username, password = PASSWORD) {
  await page.goto(baseUrl + '/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.status-live').waitFor({ state: 'attached', timeout: 15_000 });
}

// Takes up administration from the top bar: the password again (and a code, when given); waits
// for the badge that says until when it lasts.
export async function administer(page, password, code) {
  await page.locator('header.topbar').getByRole('button', { name: 'Administer', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Administer Rounds' });
  await dialog.getByLabel('Your password').fill(password);
  if (code) await dialog.getByLabel('Authentication code').fill(code);
  await dialog.getByRole('button', { name: 'Administer', exact: true }).click();
  // The badge is hidden at phone width; the button that ends it is always there.
  await page.locator('header.topbar').getByRole('button', { name: 'Stop administering' }).waitFor({ timeout: 10_000 });
}

// Polls `read` until it returns `wanted`; fails after `timeout` ms naming what it saw last.
async function pollFor(read, wanted, what, timeout) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await read(Math.max(1, deadline - Date.now())).catch(() => null);
    if (last === wanted) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected ${what} ${JSON.stringify(wanted)}, last saw ${JSON.stringify(last)}`);
}

/** Waits until the locator's text (trimmed) equals `text`. */
export function waitForText(locator, text, timeout = 10_000) {
  return pollFor(async (t) => (await locator.textContent({ timeout: t }))?.trim(), text, 'text', timeout);
}

/**
 * Waits until the input's value equals `value`. A sent message can appear from the event stream
 * before the answer to its POST, which is when the composer clears.
 */
export function waitForValue(locator, value, timeout = 10_000) {
  return pollFor((t) => locator.inputValue({ timeout: t }), value, 'the value', timeout);
}

/** The chat line or post that contains `text`. */
export const messageWith = (page, text) => page.locator('[data-message-id]', { hasText: text }).last();

/** Message actions appear on hover (or focus): hover, then click the named action. */
export async function messageAction(page, text, actionName) {
  const m = messageWith(page, text);
  await m.hover();
  await m.locator(':scope > .tools').getByRole('button', { name: actionName }).click();
}

export async function screenshot(page, name) {
  const dir = process.env.ROUNDS_SCREENSHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** Posts through the API as `client` and returns the message. */
export async function post(client, spaceId, body) {
  const res = await client.post(`/api/v1/spaces/${spaceId}/messages`, body);
  if (res.status !== 201) throw new Error(`post: ${res.status} ${res.text}`);
  return res.body;
}

/** Visible inputs, text areas and selects with no label, as short HTML snippets (empty: all labelled). */
export const unlabelledControls = (page) => page.evaluate(() => [...document.querySelectorAll('input, textarea, select')]
  .filter((el) => el.type !== 'hidden' && el.getClientRects().length > 0)
  .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
  .map((el) => el.outerHTML.slice(0, 120)));

/** What this browser's session gets from the API, asked from the page itself (its cookies). */
export const fetchFromPage = (page, path) => page.evaluate(async (url) => {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body };
}, path);
