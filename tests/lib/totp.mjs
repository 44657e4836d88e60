// RFC 6238 time-based one-time codes (SHA-1, 6 digits, 30 s), computed independently of the
// server, and a helper that turns two-step sign-in on for a signed-in API client.
import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const index = ALPHABET.indexOf(c);
    if (index < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function currentStep(nowMs = Date.now()) { return Math.floor(nowMs / 30_000); }

/** The code of base32 `secret` for time step `step` (default: now). */
export function totp(secret, step = currentStep()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(binary).padStart(6, '0');
}

/** Turns two-step sign-in on for `client` (signed in with `password`); returns the secret and recovery codes. */
export async function enrollTotp(client, password) {
  const setup = await client.post('/api/v1/me/mfa/totp/setup', { password });
  if (setup.status !== 200) throw new Error(`setup: ${setup.status} ${setup.text}`);
  const confirm = await client.post('/api/v1/me/mfa/totp/confirm', { code: totp(setup.body.secret) });
  if (confirm.status !== 200) throw new Error(`confirm: ${confirm.status} ${confirm.text}`);
  return { secret: setup.body.secret, recoveryCodes: confirm.body.recovery_codes, setup: setup.body };
}
