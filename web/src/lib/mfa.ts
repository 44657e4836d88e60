// Two-step sign-in as the screens show it: the shared secret for typing in by hand, the codes a
// person types, the account an otpauth:// URI names, and the recovery codes as a file to keep.

/** The base32 secret in groups of four, easier to copy by eye ("JBSW Y3DP EHPK 3PXP"). */
export function groupInFours(secret: string): string {
  const plain = plainSecret(secret);
  return (plain.match(/.{1,4}/g) ?? []).join(' ');
}

/** The secret without spaces or padding, in capitals: what an authenticator app expects. */
export function plainSecret(secret: string): string {
  return secret.replace(/[\s=]/g, '').toUpperCase();
}

export type CodeKind = 'totp' | 'recovery';

/**
 * A typed code as the server takes it, or null when it cannot be one: six digits from the app
 * (spaces allowed), or a recovery code `xxxxx-xxxxx` (any case; the dash may be left out).
 * Checking first spares the account a failed attempt, which counts towards a lock-out.
 */
export function parseCode(input: string, allowed: readonly CodeKind[] = ['totp', 'recovery']): string | null {
  const compact = input.replace(/\s+/g, '').toLowerCase();
  if (allowed.includes('totp') && /^\d{6}$/.test(compact)) return compact;
  const recovery = /^([a-z0-9]{5})-?([a-z0-9]{5})$/.exec(compact);
  if (allowed.includes('recovery') && recovery) return `${recovery[1]}-${recovery[2]}`;
  return null;
}

export interface OtpauthAccount { issuer: string; account: string }

/** Who an otpauth:// URI is for, as an authenticator app will list it (null if it is not one). */
export function otpauthAccount(uri: string): OtpauthAccount | null {
  const match = /^otpauth:\/\/totp\/([^?]*)(?:\?(.*))?$/i.exec(uri);
  if (!match) return null;
  let label: string;
  try { label = decodeURIComponent(match[1] ?? ''); } catch { return null; }
  const params = new URLSearchParams(match[2] ?? '');
  const colon = label.indexOf(':');
  const labelIssuer = colon >= 0 ? label.slice(0, colon).trim() : '';
  const account = (colon >= 0 ? label.slice(colon + 1) : label).trim();
  return { issuer: params.get('issuer') ?? labelIssuer, account };
}

/** The recovery codes as a small text file to save or print. */
export function recoveryCodesText(codes: readonly string[], username: string, issued: Date): string {
  return [
    `Rounds recovery codes for ${username}`,
    `Made ${issued.toISOString().slice(0, 10)}. Each code signs in once, in place of a code from your app.`,
    'Making new codes stops these from working.',
    '',
    ...codes,
    '',
  ].join('\n');
}
