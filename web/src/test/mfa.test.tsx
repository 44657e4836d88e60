// @vitest-environment jsdom
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, onMfaEnrollmentRequired, onUnauthenticated, sessionEnded, setCsrfToken, signInStep, type SessionInfo } from '../api';
import { groupInFours, otpauthAccount, parseCode, plainSecret, recoveryCodesText } from '../lib/mfa';
import { qrModules, qrPath } from '../lib/qr';
import Login from '../pages/Login';
import TwoStepSetup from '../components/TwoStepSetup';
import TwoStepSettings from '../components/TwoStepSettings';
import { byLabel, type } from './dom';
import { mount } from './mount';

describe('the secret for typing in by hand', () => {
  it('reads in groups of four, and its plain form has no spaces or padding', () => {
    expect(groupInFours('JBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP');
    expect(groupInFours('JBSWY3DPEHPK3PXPAB')).toBe('JBSW Y3DP EHPK 3PXP AB');
    expect(groupInFours('jbsw y3dp==')).toBe('JBSW Y3DP');
    expect(groupInFours('')).toBe('');
    expect(plainSecret(' jbsw Y3DP\tEHPK==== ')).toBe('JBSWY3DPEHPK');
  });
});

describe('a typed code', () => {
  it.each([
    ['123456', '123456'],
    [' 123 456 ', '123456'],
    ['abcde-12345', 'abcde-12345'],
    ['ABCDE-12345', 'abcde-12345'],
    ['abcde12345', 'abcde-12345'],
    ['abcde 12345', 'abcde-12345'],
  ])('%j is sent as %j', (typed, sent) => {
    expect(parseCode(typed)).toBe(sent);
  });

  it.each(['', '12345', '1234567', '12345a', 'abcd-12345', 'abcde-123456', 'abcde_12345', 'ábcde-12345'])('%j is not one', (typed) => {
    expect(parseCode(typed)).toBeNull();
  });

  it('can be limited to the app\'s six digits', () => {
    expect(parseCode('654321', ['totp'])).toBe('654321');
    expect(parseCode('abcde-12345', ['totp'])).toBeNull();
    expect(parseCode('123456', ['recovery'])).toBeNull();
  });
});

describe('the otpauth URI', () => {
  it('names the issuer and the account an app lists', () => {
    const uri = 'otpauth://totp/Rounds:alice?secret=JBSWY3DPEHPK3PXP&issuer=Rounds&algorithm=SHA1&digits=6&period=30';
    expect(otpauthAccount(uri)).toEqual({ issuer: 'Rounds', account: 'alice' });
    expect(otpauthAccount('otpauth://totp/St%20Mary%27s:j.o%40example.org?secret=X')).toEqual({ issuer: "St Mary's", account: 'j.o@example.org' });
    expect(otpauthAccount('otpauth://totp/alice?secret=X&issuer=Rounds')).toEqual({ issuer: 'Rounds', account: 'alice' });
  });

  it('is not read from anything else', () => {
    expect(otpauthAccount('https://example.org/totp/Rounds:alice')).toBeNull();
    expect(otpauthAccount('otpauth://hotp/Rounds:alice?secret=X')).toBeNull();
    expect(otpauthAccount('otpauth://totp/%E0%A4%A?secret=X')).toBeNull();
  });
});

describe('the recovery codes file', () => {
  it('names the account and the day, and holds every code on its own line', () => {
    const codes = ['abcde-12345', 'fghij-67890'];
    const text = recoveryCodesText(codes, 'alice', new Date(Date.UTC(2026, 2, 9, 23, 0)));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Rounds recovery codes for alice');
    expect(lines[1]).toContain('2026-03-09');
    expect(lines.filter((l) => /^[a-z0-9]{5}-[a-z0-9]{5}$/.test(l))).toEqual(codes);
  });
});

describe('the QR code', () => {
  const uri = 'otpauth://totp/Rounds:alice?secret=JBSWY3DPEHPK3PXP&issuer=Rounds&algorithm=SHA1&digits=6&period=30';

  it('is square, of a QR size, with the three finder patterns in their corners', () => {
    const modules = qrModules(uri);
    const size = modules.length;
    expect((size - 17) % 4).toBe(0);
    expect(modules.every((row) => row.length === size)).toBe(true);
    // A finder pattern: a dark 7x7 ring, a light ring, a dark 3x3 centre.
    const finder = (top: number, left: number) => Array.from({ length: 7 }, (_, r) => Array.from({ length: 7 }, (_, c) => modules[top + r]![left + c]));
    const expected = Array.from({ length: 7 }, (_, r) => Array.from({ length: 7 }, (_, c) =>
      r === 0 || r === 6 || c === 0 || c === 6 || (r >= 2 && r <= 4 && c >= 2 && c <= 4)));
    expect(finder(0, 0)).toEqual(expected);
    expect(finder(0, size - 7)).toEqual(expected);
    expect(finder(size - 7, 0)).toEqual(expected);
  });

  it('draws exactly the dark modules, shifted by the quiet zone', () => {
    const modules = qrModules(uri);
    const margin = 4;
    const drawn = modules.map((row) => row.map(() => false));
    for (const [, x, y, w] of qrPath(modules, margin).matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
      for (let i = 0; i < Number(w); i++) {
        const row = drawn[Number(y) - margin]!;
        expect(row[Number(x) - margin + i]).toBe(false); // no module drawn twice
        row[Number(x) - margin + i] = true;
      }
    }
    expect(drawn).toEqual(modules);
  });

  it('joins a row\'s run of dark modules into one rectangle', () => {
    expect(qrPath([[true, true, false, true], [false, false, false, false]], 0)).toBe('M0 0h2v1h-2zM3 0h1v1h-1z');
  });
});

describe('signing in', () => {
  it('tells a session from a request for the code step', () => {
    const session = { user: { id: 1 }, csrf_token: 't' } as SessionInfo;
    expect(signInStep(session)).toEqual({ kind: 'signed_in', session });
    const challenge = { mfa_required: true as const, mfa_token: 'opaque', methods: ['totp', 'recovery_code'] };
    expect(signInStep(challenge)).toEqual({ kind: 'mfa', challenge });
  });

  it('a wrong code is not a lost session; a 401 anywhere else is', () => {
    expect(sessionEnded(401, '/api/v1/auth/login', 'invalid_credentials')).toBe(false);
    expect(sessionEnded(401, '/api/v1/auth/mfa', 'invalid_mfa_token')).toBe(false);
    expect(sessionEnded(401, '/api/v1/auth/mfa', 'invalid_code')).toBe(false);
    expect(sessionEnded(401, '/api/v1/me/mfa/totp/confirm', 'invalid_code')).toBe(false);
    expect(sessionEnded(401, '/api/v1/me/mfa/totp/disable', 'invalid_code')).toBe(false);
    expect(sessionEnded(401, '/api/v1/me', 'unauthenticated')).toBe(true);
    expect(sessionEnded(401, '/api/v1/spaces', 'session_expired')).toBe(true);
    expect(sessionEnded(403, '/api/v1/me/mfa/totp/setup', 'invalid_credentials')).toBe(false);
  });
});

// The screens, against a fetch that answers as the server would.
interface Sent { url: string; method: string; body: unknown }
const sent: Sent[] = [];
let answer: (url: string, body: Record<string, unknown>) => Response = () => new Response(null, { status: 500 });
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const settle = () => act(async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); await new Promise((r) => setTimeout(r, 0)); });

const button = (el: HTMLElement, text: string) => [...el.querySelectorAll('button')].find((b) => b.textContent === text)!;
const alertText = (el: HTMLElement) => el.querySelector('.error[role="alert"]')?.textContent ?? null;

beforeEach(() => {
  sent.length = 0;
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    const body = init.body ? JSON.parse(String(init.body)) as Record<string, unknown> : {};
    sent.push({ url, method: init.method ?? 'GET', body });
    return answer(url, body);
  }));
});
afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
  onUnauthenticated(() => {});
});

const user = { id: 4, username: 'alice', display_name: 'Alice' };
const challenge = { mfa_required: true, mfa_token: 'opaque-token', methods: ['totp', 'recovery_code'] };

async function toCodeStep() {
  const signedIn = vi.fn();
  const { el } = mount(<Login onSignedIn={signedIn} />);
  answer = () => json(200, challenge);
  type(byLabel(el, 'Username'), ' alice ');
  type(byLabel(el, 'Password'), 'correct horse');
  act(() => button(el, 'Sign in').click());
  await settle();
  return { el, signedIn };
}

describe('the sign-in card', () => {
  it('asks for a code after the right password, and explains a wrong one', async () => {
    const { el, signedIn } = await toCodeStep();
    expect(sent[0]).toEqual({ url: '/api/v1/auth/login', method: 'POST', body: { username: 'alice', password: 'correct horse', bearer: false } });
    expect(signedIn).not.toHaveBeenCalled();
    expect(byLabel(el, 'Password')).toBeNull();
    const code = byLabel(el, 'Authentication code')!;
    expect(code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(code.getAttribute('inputmode')).toBe('numeric');
    expect(document.activeElement).toBe(code);
    expect(el.textContent).toContain('recovery code');

    answer = () => json(401, { code: 'invalid_code', detail: 'That code is not right. Codes change every 30 seconds.' });
    type(code, '000 000');
    act(() => button(el, 'Verify').click());
    await settle();
    expect(sent[1]).toEqual({ url: '/api/v1/auth/mfa', method: 'POST', body: { mfa_token: 'opaque-token', code: '000000', bearer: false } });
    expect(alertText(el)).toBe('That code is not right. Codes change every 30 seconds.');
    expect(code.getAttribute('aria-describedby')).toContain('login-error');
    expect(code.value).toBe('');

    const session = { user, csrf_token: 'csrf-2' };
    answer = () => json(200, session);
    type(code, 'ABCDE-12345');
    act(() => button(el, 'Verify').click());
    await settle();
    expect(sent[2]!.body).toEqual({ mfa_token: 'opaque-token', code: 'abcde-12345', bearer: false });
    expect(signedIn).toHaveBeenCalledWith(session);
  });

  it('does not spend an attempt on something that cannot be a code', async () => {
    const { el } = await toCodeStep();
    type(byLabel(el, 'Authentication code'), '12345');
    act(() => button(el, 'Verify').click());
    await settle();
    expect(sent).toHaveLength(1);
    expect(alertText(el)).toMatch(/6-digit code/);
  });

  it('goes back to the password when the challenge has lapsed, keeping the username', async () => {
    const { el } = await toCodeStep();
    answer = () => json(401, { code: 'invalid_mfa_token', detail: 'Sign-in took too long. Enter your password again.' });
    type(byLabel(el, 'Authentication code'), '123456');
    act(() => button(el, 'Verify').click());
    await settle();
    expect(byLabel(el, 'Authentication code')).toBeNull();
    expect(byLabel(el, 'Username')!.value).toBe(' alice ');
    expect(byLabel(el, 'Password')!.value).toBe('');
    expect(alertText(el)).toBe('Sign-in took too long. Enter your password again.');
  });

  it('"Start over" returns to the password step without a request', async () => {
    const { el } = await toCodeStep();
    act(() => button(el, 'Start over').click());
    expect(byLabel(el, 'Password')).not.toBeNull();
    expect(document.activeElement).toBe(byLabel(el, 'Password'));
    expect(sent).toHaveLength(1);
  });
});

describe('setting up two-step sign-in', () => {
  it('asks the password, shows the QR code and the key, turns on with a code and shows the recovery codes', async () => {
    setCsrfToken('csrf-1');
    const onDone = vi.fn();
    const { el } = mount(<TwoStepSetup username="alice" onDone={onDone} />);
    const uri = 'otpauth://totp/Rounds:alice?secret=JBSWY3DPEHPK3PXP&issuer=Rounds&algorithm=SHA1&digits=6&period=30';
    answer = () => json(200, { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: uri });
    type(byLabel(el, 'Your password'), 'correct horse');
    act(() => button(el, 'Continue').click());
    await settle();
    expect(sent[0]).toEqual({ url: '/api/v1/me/mfa/totp/setup', method: 'POST', body: { password: 'correct horse' } });

    const secret = el.querySelector('[data-testid="mfa-secret"]')!;
    expect(secret.getAttribute('data-secret')).toBe('JBSWY3DPEHPK3PXP');
    expect(secret.textContent).toBe('JBSW Y3DP EHPK 3PXP');
    const qr = el.querySelector('svg[role="img"]')!;
    expect(qr.getAttribute('aria-label')).toContain('Rounds (alice)');
    expect(qr.querySelector('path')!.getAttribute('d')).toMatch(/^M\d/);
    expect(el.querySelector('img')).toBeNull();

    answer = () => json(401, { code: 'invalid_code', detail: 'That code is not right.' });
    let ended = false;
    onUnauthenticated(() => { ended = true; });
    type(byLabel(el, 'Authentication code'), '111111');
    act(() => button(el, 'Turn on').click());
    await settle();
    expect(alertText(el)).toBe('That code is not right.');
    expect(ended).toBe(false);

    const codes = Array.from({ length: 10 }, (_, i) => `code${i}-${i}${i}${i}${i}${i}`);
    answer = () => json(200, { recovery_codes: codes });
    type(byLabel(el, 'Authentication code'), '222 222');
    act(() => button(el, 'Turn on').click());
    await settle();
    expect(sent.at(-1)).toEqual({ url: '/api/v1/me/mfa/totp/confirm', method: 'POST', body: { code: '222222' } });
    const list = el.querySelector('[data-testid="recovery-codes"]')!;
    expect([...list.querySelectorAll('li')].map((li) => li.textContent)).toEqual(codes);
    expect(onDone).not.toHaveBeenCalled();
    act(() => button(el, 'Done').click());
    expect(onDone).toHaveBeenCalledOnce();
  });

  it('starts again from the password when the server lost the set-up', async () => {
    const { el } = mount(<TwoStepSetup username="alice" onDone={() => {}} />);
    answer = () => json(200, { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Rounds:alice?secret=JBSWY3DPEHPK3PXP' });
    type(byLabel(el, 'Your password'), 'correct horse');
    act(() => button(el, 'Continue').click());
    await settle();
    answer = () => json(409, { code: 'mfa_setup_not_started', detail: 'Start setting up again.' });
    type(byLabel(el, 'Authentication code'), '123456');
    act(() => button(el, 'Turn on').click());
    await settle();
    expect(byLabel(el, 'Your password')).not.toBeNull();
    expect(alertText(el)).toBe('Start setting up again.');
  });
});

describe('the API client', () => {
  it('a refusal until set-up is done is reported, and is not a lost session', async () => {
    let ended = false;
    let enroll = 0;
    onUnauthenticated(() => { ended = true; });
    onMfaEnrollmentRequired(() => { enroll += 1; });
    answer = () => json(403, { code: 'mfa_enrollment_required', detail: 'Set up two-step sign-in first.' });
    await expect(api('GET', '/api/v1/spaces')).rejects.toMatchObject({ status: 403, code: 'mfa_enrollment_required' });
    expect(enroll).toBe(1);
    expect(ended).toBe(false);
    // Any other refusal is only an error.
    answer = () => json(403, { code: 'forbidden', detail: 'No.' });
    await expect(api('GET', '/api/v1/spaces/1')).rejects.toMatchObject({ status: 403 });
    expect(enroll).toBe(1);
    onMfaEnrollmentRequired(() => {});
  });
});

describe('the profile\'s two-step sign-in section', () => {
  // The summary after a change says what the change did, even while the status is read again (the
  // reload here never answers): it once showed the count from before new codes were made.
  it('shows the new code count and the off state at once, not the status from before', async () => {
    setCsrfToken('csrf-1');
    let status = { enabled: true, required: false, recovery_codes_left: 9 };
    const codes = Array.from({ length: 10 }, (_, i) => `abcd${i}-12345`);
    let reloads = 0;
    answer = (url) => {
      if (url === '/api/v1/me') return json(200, { user, csrf_token: 'csrf-1', mfa: status });
      if (url === '/api/v1/me/mfa/recovery-codes') return json(200, { recovery_codes: codes });
      if (url === '/api/v1/me/mfa/totp/disable') return new Response(null, { status: 204 });
      return json(500, {});
    };
    const { el } = mount(<TwoStepSettings username="alice" />);
    await settle();
    const left = () => el.querySelector('[data-testid="mfa-codes-left"]')?.textContent ?? null;
    expect(left()).toBe('9 recovery codes left.');

    act(() => button(el, 'New recovery codes').click());
    type(byLabel(el, 'Your password'), 'correct horse');
    type(byLabel(el, 'Authentication code'), '123456');
    act(() => button(el, 'Make new codes').click());
    await settle();
    expect(el.querySelectorAll('[data-testid="recovery-codes"] li')).toHaveLength(10);
    // From here the status is read again but never answered.
    const pending = answer;
    answer = (url, body) => {
      if (url === '/api/v1/me') { reloads += 1; return new Promise<Response>(() => {}) as unknown as Response; }
      return pending(url, body);
    };
    act(() => button(el, 'Done').click());
    await settle();
    expect(reloads).toBe(1);
    expect(left()).toBe('10 recovery codes left.');
    expect(el.textContent).toContain('New recovery codes are ready.');

    act(() => button(el, 'Turn off').click());
    type(byLabel(el, 'Your password'), 'correct horse');
    type(byLabel(el, 'Authentication code'), '123456');
    act(() => button(el, 'Turn off').click());
    await settle();
    expect(reloads).toBe(2);
    expect(el.querySelector('[data-testid="mfa-state"]')?.textContent).toMatch(/^Off\./);
    expect(left()).toBeNull();
    status = { enabled: false, required: false, recovery_codes_left: 0 };
  });
});
