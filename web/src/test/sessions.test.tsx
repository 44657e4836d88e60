// @vitest-environment jsdom
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken, type LiveSession, type User } from '../api';
import { shortTime, timeOfDay } from '../lib/format';
import { currentFirst, describeDevice, endedText, lastActiveText, parseUserAgent, signedInText } from '../lib/sessions';
import { AppContext, type AppContextValue } from '../state';
import SessionList from '../components/SessionList';
import ProfilePage from '../pages/Profile';
import { mount } from './mount';

// Real User-Agent strings, as each browser sends them.
const UA = {
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  chromeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  chromeLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  headlessChrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
  chromiumLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/80.0.3987.87 Chrome/80.0.3987.87 Safari/537.36',
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  chromeIos: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
  chromeOs: 'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  firefoxMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0',
  firefoxLinux: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  firefoxAndroid: 'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0',
  firefoxIos: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  safariIpad: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  edgeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  edgeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  edgeLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  edgeAndroid: 'Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36 EdgA/124.0.2478.64',
  edgeIos: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.71 Mobile/15E148 Safari/605.1.15',
  edgeLegacy: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582',
  opera: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0',
  samsung: 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
};

describe('the device a session is on', () => {
  it.each([
    [UA.chromeWindows, 'Chrome on Windows'],
    [UA.chromeMac, 'Chrome on macOS'],
    [UA.chromeLinux, 'Chrome on Linux'],
    [UA.headlessChrome, 'Chrome on Linux'],
    [UA.chromiumLinux, 'Chromium on Linux'],
    [UA.chromeAndroid, 'Chrome on Android'],
    [UA.chromeIos, 'Chrome on iOS'],
    [UA.chromeOs, 'Chrome on ChromeOS'],
    [UA.firefoxWindows, 'Firefox on Windows'],
    [UA.firefoxMac, 'Firefox on macOS'],
    [UA.firefoxLinux, 'Firefox on Linux'],
    [UA.firefoxAndroid, 'Firefox on Android'],
    [UA.firefoxIos, 'Firefox on iOS'],
    [UA.safariMac, 'Safari on macOS'],
    [UA.safariIphone, 'Safari on iOS'],
    [UA.safariIpad, 'Safari on iOS'],
    [UA.edgeWindows, 'Edge on Windows'],
    [UA.edgeMac, 'Edge on macOS'],
    [UA.edgeLinux, 'Edge on Linux'],
    [UA.edgeAndroid, 'Edge on Android'],
    [UA.edgeIos, 'Edge on iOS'],
    [UA.edgeLegacy, 'Edge on Windows'],
    [UA.opera, 'Opera on Windows'],
    [UA.samsung, 'Samsung Internet on Android'],
  ])('%s is %j', (ua, name) => {
    expect(describeDevice({ bearer: false, user_agent: ua })).toBe(name);
  });

  it('says what it cannot tell', () => {
    expect(describeDevice({ bearer: false, user_agent: '' })).toBe('Unknown device');
    expect(describeDevice({ bearer: false, user_agent: '   ' })).toBe('Unknown device');
    expect(describeDevice({ bearer: false, user_agent: 'Mozilla/5.0' })).toBe('Unknown device');
    expect(describeDevice({ bearer: false, user_agent: 'Mozilla/5.0 (X11; Linux x86_64) SomeEngine/1.0' })).toBe('Web browser on Linux');
    expect(describeDevice({ bearer: false, user_agent: 'curl/8.5.0' })).toBe('curl');
    expect(parseUserAgent('')).toEqual({ browser: null, os: null });
    expect(parseUserAgent('Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/125.0')).toEqual({ browser: 'Firefox', os: 'Windows' });
  });

  it('a bearer session is an API client, whatever it calls itself', () => {
    expect(describeDevice({ bearer: true, user_agent: 'node' })).toBe('API client');
    expect(describeDevice({ bearer: true, user_agent: UA.chromeLinux })).toBe('API client');
    expect(describeDevice({ bearer: true, user_agent: '' })).toBe('API client');
  });
});

describe('when a session was used', () => {
  const now = new Date(2026, 2, 10, 15, 0).getTime();
  const min = 60_000;

  it('last activity in words, within the minute the server may lag', () => {
    expect(lastActiveText(now, now)).toBe('Just now');
    expect(lastActiveText(now + 5_000, now)).toBe('Just now'); // a clock a little ahead
    expect(lastActiveText(now - 119_000, now)).toBe('Just now');
    expect(lastActiveText(now - 2 * min, now)).toBe('2 minutes ago');
    expect(lastActiveText(now - 59 * min, now)).toBe('59 minutes ago');
    expect(lastActiveText(now - 60 * min, now)).toBe('1 hour ago');
    expect(lastActiveText(now - 23 * 60 * min, now)).toBe('23 hours ago');
    expect(lastActiveText(now - 3 * 24 * 60 * min, now)).toBe(shortTime(now - 3 * 24 * 60 * min, now));
  });

  it('sign-in as today, yesterday or a date', () => {
    const morning = new Date(2026, 2, 10, 8, 5).getTime();
    const lastNight = new Date(2026, 2, 9, 22, 30).getTime();
    const february = new Date(2026, 1, 2, 9, 0).getTime();
    expect(signedInText(morning, now)).toBe(`Today, ${timeOfDay(morning)}`);
    expect(signedInText(lastNight, now)).toBe(`Yesterday, ${timeOfDay(lastNight)}`);
    expect(signedInText(february, now)).toBe(shortTime(february, now));
  });

  it('reports how many were ended', () => {
    expect(endedText(0)).toBe('There were no other sessions to end.');
    expect(endedText(1)).toMatch(/^Ended 1 other session\./);
    expect(endedText(3)).toMatch(/^Ended 3 other sessions\./);
  });

  it('lists this device first, the others as the server ordered them', () => {
    const list = [{ id: 9, current: false }, { id: 7, current: true }, { id: 5, current: false }];
    expect(currentFirst(list).map((s) => s.id)).toEqual([7, 9, 5]);
    expect(currentFirst([])).toEqual([]);
  });
});

// ---- the screens, against a fetch that answers as the server would ----

interface Sent { url: string; method: string; body: unknown; csrf: string | undefined }
const sent: Sent[] = [];
let answer: (url: string, method: string, body: Record<string, unknown>) => Response | undefined = () => undefined;
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const settle = () => act(async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); await new Promise((r) => setTimeout(r, 0)); });

function type(input: Element | null | undefined, value: string) {
  if (!input) throw new Error('no such field');
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
  act(() => {
    setter.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}
const byLabel = (el: Element, text: string) => {
  const label = [...el.querySelectorAll('label')].find((l) => l.textContent === text);
  return label ? document.getElementById(label.htmlFor) as HTMLInputElement | null : null;
};
const buttons = (el: Element, text: string) => [...el.querySelectorAll('button')].filter((b) => b.textContent === text);
const rows = (el: Element) => [...el.querySelectorAll('[data-testid="session"]')];
const status = (el: Element) => el.querySelector('[role="status"]')?.textContent ?? null;

const now = Date.now();
const session = (id: number, more: Partial<LiveSession> = {}): LiveSession => ({
  id, current: false, bearer: false, second_factor: false, created_at: now - 3_600_000, last_seen_at: now - 600_000,
  expires_at: now + 3_600_000, user_agent: UA.firefoxWindows, address: '10.0.0.7', ...more,
});

beforeEach(() => {
  sent.length = 0;
  answer = () => undefined;
  setCsrfToken('csrf-1');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(String(init.body)) as Record<string, unknown> : {};
    sent.push({ url, method, body, csrf: (init.headers as Record<string, string>)['x-csrf-token'] });
    return answer(url, method, body) ?? json(404, { code: 'not_found', detail: 'Not here.' });
  }));
});
afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe('the list of sessions', () => {
  it('marks this device, offers "End session" on the others and ends one with the CSRF token', async () => {
    let live = [session(3, { current: true, user_agent: UA.chromeLinux, address: '127.0.0.1' }), session(2, { bearer: true, user_agent: 'node' }), session(1)];
    answer = (url, method) => {
      if (url === '/api/v1/me/sessions') return json(200, { items: live });
      if (url === '/api/v1/me/sessions/1' && method === 'DELETE') { live = live.filter((s) => s.id !== 1); return new Response(null, { status: 204 }); }
      return undefined;
    };
    const { el } = mount(<SessionList />);
    await settle();
    const [mine, api, firefox] = rows(el);
    expect(rows(el)).toHaveLength(3);
    expect(mine!.textContent).toContain('Chrome on Linux');
    expect(mine!.textContent).toContain('This device');
    expect(mine!.textContent).toContain('127.0.0.1');
    expect(mine!.querySelector('strong')!.getAttribute('title')).toBe(UA.chromeLinux);
    expect(mine!.querySelector('button')).toBeNull();
    expect(api!.textContent).toContain('API client');
    expect(api!.textContent).not.toContain('This device');
    expect(firefox!.textContent).toContain('Firefox on Windows');
    expect(firefox!.textContent).toContain('10 minutes ago');
    // Each button is described by its row's device, for a screen reader going through the buttons.
    const endFirefox = firefox!.querySelector('button')!;
    expect(endFirefox.textContent).toBe('End session');
    expect(document.getElementById(endFirefox.getAttribute('aria-describedby')!)!.textContent).toBe('Firefox on Windows');

    act(() => endFirefox.click());
    await settle();
    expect(sent).toContainEqual({ url: '/api/v1/me/sessions/1', method: 'DELETE', body: {}, csrf: 'csrf-1' });
    expect(rows(el)).toHaveLength(2);
    expect(status(el)).toBe('Ended the session on Firefox on Windows. It is signed out.');
    expect(buttons(el, 'End all other sessions')).toHaveLength(1);
  });

  it('ends every other session at once and reports how many; the button goes with them', async () => {
    let live = [session(3, { current: true }), session(2), session(1)];
    answer = (url, method) => {
      if (url === '/api/v1/me/sessions') return json(200, { items: live });
      if (url === '/api/v1/me/sessions/end-others' && method === 'POST') { live = live.filter((s) => s.current); return json(200, { ended: 2 }); }
      return undefined;
    };
    const { el } = mount(<SessionList />);
    await settle();
    act(() => buttons(el, 'End all other sessions')[0]!.click());
    await settle();
    expect(sent.some((s) => s.url === '/api/v1/me/sessions/end-others' && s.method === 'POST' && s.csrf === 'csrf-1')).toBe(true);
    expect(status(el)).toBe('Ended 2 other sessions. They are signed out.');
    expect(rows(el)).toHaveLength(1);
    expect(buttons(el, 'End all other sessions')).toHaveLength(0);
    expect(document.activeElement?.tagName).toBe('H2');
  });

  it('a session that ended meanwhile is only dropped from the list', async () => {
    let live = [session(3, { current: true }), session(1)];
    answer = (url, method) => {
      if (url === '/api/v1/me/sessions') return json(200, { items: live });
      if (method === 'DELETE') { live = live.filter((s) => s.current); return json(404, { code: 'not_found', detail: 'No such session.' }); }
      return undefined;
    };
    const { el } = mount(<SessionList />);
    await settle();
    act(() => buttons(el, 'End session')[0]!.click());
    await settle();
    expect(el.querySelector('[role="alert"]')).toBeNull();
    expect(status(el)).toBe('That session had already ended.');
    expect(rows(el)).toHaveLength(1);
  });

  it('marks a session that administers, with until when', async () => {
    const until = now + 600_000;
    answer = (url) => (url === '/api/v1/me/sessions'
      ? json(200, { items: [session(3, { current: true }), session(2, { admin_elevated_until: until }), session(1, { admin_elevated_until: 0 })] }) : undefined);
    const { el } = mount(<SessionList />);
    await settle();
    const [mine, elevated, plain] = rows(el);
    expect(elevated!.textContent).toContain(`Administering until ${timeOfDay(until)}`);
    expect(mine!.textContent).not.toContain('Administering');
    expect(plain!.textContent).not.toContain('Administering');
  });

  it('with only this device there is nothing to end', async () => {
    answer = (url) => (url === '/api/v1/me/sessions' ? json(200, { items: [session(3, { current: true })] }) : undefined);
    const { el } = mount(<SessionList />);
    await settle();
    expect(rows(el)).toHaveLength(1);
    expect(el.querySelectorAll('button')).toHaveLength(0);
  });
});

describe('the profile\'s details', () => {
  const me: User = {
    id: 4, username: 'alice', display_name: 'Alice', email: 'alice@example.org', job_role: 'Nurse', department_ids: [],
    kind: 'staff', is_admin: false, is_compliance: false, disabled: false, created_at: 0,
  };

  function renderProfile() {
    let stored = me;
    const setMe = vi.fn((u: User) => { stored = u; });
    const ctx = { me, setMe, subscribe: () => () => {} } as unknown as AppContextValue;
    const view = mount(<AppContext.Provider value={ctx}><ProfilePage /></AppContext.Provider>);
    const rerender = () => act(() => view.root.render(<AppContext.Provider value={{ ...ctx, me: stored }}><ProfilePage /></AppContext.Provider>));
    const form = view.el.querySelector('form[aria-labelledby="profile-details"]')!;
    return { form, setMe, rerender };
  }

  it('asks for the current password only when the e-mail address changes, and sends it', async () => {
    const { form, setMe, rerender } = renderProfile();
    await settle();
    expect(byLabel(form, 'Current password')).toBeNull();

    type(byLabel(form, 'E-mail'), 'alice@new.example.org');
    const password = byLabel(form, 'Current password')!;
    expect(password.type).toBe('password');
    expect(password.autocomplete).toBe('current-password');
    expect(password.required).toBe(true);
    const why = document.getElementById(password.getAttribute('aria-describedby')!)!;
    expect(why.textContent).toBe('Changing your e-mail address needs your current password.');
    expect(byLabel(form, 'E-mail')!.getAttribute('aria-describedby')).toBe(why.id);

    answer = (url, method) => (url === '/api/v1/me' && method === 'PATCH'
      ? json(403, { code: 'invalid_credentials', detail: 'That password is not right.' }) : undefined);
    type(password, 'wrong password');
    act(() => form.querySelector('button[type="submit"]')!.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await settle();
    expect(sent.filter((s) => s.method === 'PATCH').at(-1)!.body).toEqual({ display_name: 'Alice', email: 'alice@new.example.org', current_password: 'wrong password' });
    expect(form.querySelector('.error[role="alert"]')!.textContent).toBe('That password is not right.');
    expect(password.value).toBe('');
    expect(password.getAttribute('aria-invalid')).toBe('true');
    expect(password.getAttribute('aria-describedby')).toContain('profile-error');
    expect(setMe).not.toHaveBeenCalled();

    answer = (url, method) => (url === '/api/v1/me' && method === 'PATCH' ? json(200, { ...me, email: 'alice@new.example.org' }) : undefined);
    type(password, 'correct horse');
    act(() => form.querySelector('button[type="submit"]')!.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await settle();
    expect(sent.filter((s) => s.method === 'PATCH').at(-1)!.body).toEqual({ display_name: 'Alice', email: 'alice@new.example.org', current_password: 'correct horse' });
    expect(setMe).toHaveBeenCalledWith({ ...me, email: 'alice@new.example.org' });
    rerender();
    expect(byLabel(form, 'Current password')).toBeNull(); // the address is the stored one now
    expect(form.querySelector('[role="status"]')!.textContent).toBe('Profile saved.');
    type(byLabel(form, 'E-mail'), 'alice@other.example.org');
    expect(byLabel(form, 'Current password')!.value).toBe(''); // not kept after saving
  });

  it('a new display name alone is saved without a password', async () => {
    const { form } = renderProfile();
    await settle();
    answer = (url, method) => (url === '/api/v1/me' && method === 'PATCH' ? json(200, { ...me, display_name: 'Alice B' }) : undefined);
    type(byLabel(form, 'Display name'), 'Alice B');
    // Typing the address back as it was asks for nothing either.
    type(byLabel(form, 'E-mail'), 'alice@example.org.');
    expect(byLabel(form, 'Current password')).not.toBeNull();
    type(byLabel(form, 'E-mail'), ' alice@example.org ');
    expect(byLabel(form, 'Current password')).toBeNull();
    act(() => form.querySelector('button[type="submit"]')!.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await settle();
    expect(sent.filter((s) => s.method === 'PATCH')).toEqual([
      { url: '/api/v1/me', method: 'PATCH', body: { display_name: 'Alice B', email: 'alice@example.org' }, csrf: 'csrf-1' },
    ]);
    expect(form.querySelector('[role="status"]')!.textContent).toBe('Profile saved.');
  });
});
