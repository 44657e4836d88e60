// @vitest-environment jsdom
// Administration as a separate standing of the session: an administrator's account acts as staff
// until it confirms the password (and a code) in the "Administer Rounds" dialog; the top bar says
// until when it administers and stops it; a person's page offers the account actions only while
// administering; and a refusal for want of it is reported to the app.
import { act, type ReactNode } from 'react';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, onAdminElevationRequired, setCsrfToken, type User } from '../api';
import { timeOfDay } from '../lib/format';
import { AppContext, type AppContextValue } from '../state';
import ElevateDialog from '../components/ElevateDialog';
import TopBar from '../components/TopBar';
import PersonPage from '../pages/Person';
import { button, byLabel, errorOf, polyfillDialogs, settle, submit, type } from './dom';
import { mount } from './mount';

interface Sent { url: string; method: string; body: unknown }
const sent: Sent[] = [];
let answer: (url: string, method: string, body: unknown) => Response = () => new Response(null, { status: 500 });
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: string, detail: string) =>
  json(status, { type: `https://rounds.example/problems/${code}`, title: 'Refused', status, code, detail });

const ADMIN: User = {
  id: 1, username: 'root', display_name: 'Ray Admin', email: 'root@example.org', job_role: 'IT', department_ids: [],
  kind: 'staff', is_admin: true, is_compliance: false, disabled: false, created_at: 0,
};
const NURSE: User = { ...ADMIN, id: 5, username: 'bo', display_name: 'Bo Nurse', is_admin: false, job_role: 'Registered Nurse' };
const SESSION = (mfa: boolean) => ({ user: ADMIN, csrf_token: 't', session: { idle_timeout_ms: 900_000 }, mfa: { enabled: mfa, required: false, recovery_codes_left: 10 } });

function withApp(node: ReactNode, over: Partial<AppContextValue> = {}) {
  const ctx = {
    me: ADMIN, setMe: () => {}, spaces: [], spacesLoaded: true, reloadSpaces: async () => {}, addSpace: () => {}, online: new Set<number>(),
    status: 'live', stream: {}, subscribe: () => () => {}, announce: () => {}, toast: () => {}, markSeen: () => {},
    openCreateSpace: () => {}, openNewDirect: () => {}, administering: false, adminUntil: 0, openElevate: () => {},
    endAdministration: async () => {}, ...over,
  } as unknown as AppContextValue;
  return <AppContext.Provider value={ctx}>{node}</AppContext.Provider>;
}
const elevations = () => sent.filter((s) => s.url === '/api/v1/auth/elevation' && s.method === 'POST');

beforeAll(polyfillDialogs);
beforeEach(() => {
  sent.length = 0;
  setCsrfToken('token');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    const body = init.body ? JSON.parse(String(init.body)) : null;
    sent.push({ url, method: init.method ?? 'GET', body });
    return answer(url, init.method ?? 'GET', body);
  }));
});

describe('the Administer Rounds dialog', () => {
  it('asks for the password before sending anything, and puts a wrong one under its field, emptied', async () => {
    answer = (url) => (url === '/api/v1/me' ? json(200, SESSION(false)) : problem(403, 'invalid_credentials', 'The password is not right.'));
    const onElevated = vi.fn();
    const { el } = mount(withApp(<ElevateDialog onClose={() => {}} onElevated={onElevated} />));
    await settle();
    expect(byLabel(el, 'Authentication code')).toBeNull();
    await submit(el);
    expect(elevations()).toHaveLength(0);
    expect(errorOf(byLabel(el, 'Your password') as HTMLElement)?.textContent).toBe('Enter your password.');

    type(byLabel(el, 'Your password'), 'not-the-password');
    await submit(el);
    expect(elevations()).toEqual([{ url: '/api/v1/auth/elevation', method: 'POST', body: { password: 'not-the-password' } }]);
    const password = byLabel(el, 'Your password') as HTMLInputElement;
    expect(errorOf(password)?.textContent).toBe('The password is not right.');
    expect(password.value).toBe('');
    expect(onElevated).not.toHaveBeenCalled();
  });

  it('asks for a code with two-step sign-in, or when the server asks for one, and hands on how long it lasts', async () => {
    let calls = 0;
    answer = (url) => {
      if (url === '/api/v1/me') return json(200, SESSION(false));
      calls += 1;
      return calls === 1 ? problem(400, 'code_required', 'Enter the code from your authenticator app as well.')
        : json(200, { admin_elevated_until: 1_800_000_900_000, admin_elevation_left_ms: 900_000 });
    };
    const onElevated = vi.fn();
    const { el } = mount(withApp(<ElevateDialog onClose={() => {}} onElevated={onElevated} />));
    await settle();
    type(byLabel(el, 'Your password'), 'the-right-password');
    await submit(el);
    const code = byLabel(el, 'Authentication code') as HTMLInputElement;
    expect(code).not.toBeNull();
    expect(errorOf(code)?.textContent).toBe('Enter the code from your authenticator app as well.');
    type(code, '12 34');
    await submit(el);
    expect(errorOf(byLabel(el, 'Authentication code') as HTMLElement)?.textContent).toMatch(/6-digit code/);
    expect(elevations()).toHaveLength(1);
    type(byLabel(el, 'Authentication code'), '123 456');
    await submit(el);
    expect(elevations()[1]?.body).toEqual({ password: 'the-right-password', code: '123456' });
    expect(onElevated).toHaveBeenCalledWith(1_800_000_900_000, 900_000);
  });

  it('shows the code field at once when the account has two-step sign-in', async () => {
    answer = () => json(200, SESSION(true));
    const { el } = mount(withApp(<ElevateDialog onClose={() => {}} onElevated={() => {}} />));
    await settle();
    expect(byLabel(el, 'Authentication code')).not.toBeNull();
  });
});

describe('the top bar', () => {
  it('offers nothing to someone who is not an administrator', () => {
    const { el } = mount(withApp(<TopBar menuOpen={false} onMenu={() => {}} onSignOut={() => {}} />, { me: NURSE }));
    expect(button(el, 'Administer')).toBeUndefined();
    expect(el.querySelector('.admin-badge')).toBeNull();
  });

  it('offers administration to an administrator, says until when it lasts, and stops it', async () => {
    const openElevate = vi.fn();
    const resting = mount(withApp(<TopBar menuOpen={false} onMenu={() => {}} onSignOut={() => {}} />, { openElevate }));
    act(() => button(resting.el, 'Administer')!.click());
    expect(openElevate).toHaveBeenCalledTimes(1);

    const until = Date.now() + 600_000;
    const endAdministration = vi.fn(async () => {});
    const on = mount(withApp(<TopBar menuOpen={false} onMenu={() => {}} onSignOut={() => {}} />, { administering: true, adminUntil: until, endAdministration }));
    expect(on.el.querySelector('.admin-badge')?.textContent).toBe(`Administering until ${timeOfDay(until)}`);
    expect(button(on.el, 'Administer')).toBeUndefined();
    act(() => button(on.el, 'Stop administering')!.click());
    expect(endAdministration).toHaveBeenCalledTimes(1);
  });
});

describe("a person's page", () => {
  beforeEach(() => {
    answer = (url) => (url === '/api/v1/users/5' ? json(200, NURSE) : url === '/api/v1/departments' ? json(200, { items: [] }) : json(200, {}));
  });

  it('asks an administrator who is not administering to take it up before the account actions', async () => {
    const openElevate = vi.fn();
    const { el } = mount(withApp(<PersonPage id={5} />, { openElevate }));
    await settle();
    expect(el.querySelector('h2')?.textContent).toBe('Manage this account');
    expect(button(el, 'End all sessions')).toBeUndefined();
    act(() => button(el, 'Administer')!.click());
    expect(openElevate).toHaveBeenCalledTimes(1);
  });

  it('shows the account actions while administering, and nothing of the kind to staff', async () => {
    const admin = mount(withApp(<PersonPage id={5} />, { administering: true, adminUntil: Date.now() + 600_000 }));
    await settle();
    expect(button(admin.el, 'End all sessions')).toBeDefined();
    expect(button(admin.el, 'Reset two-step sign-in')).toBeDefined();
    const staff = mount(withApp(<PersonPage id={5} />, { me: { ...NURSE, id: 6 } }));
    await settle();
    expect(button(staff.el, 'Administer')).toBeUndefined();
    expect(button(staff.el, 'End all sessions')).toBeUndefined();
  });
});

it('tells the app when the server refuses an act for want of administration, and only then', async () => {
  const told = vi.fn();
  onAdminElevationRequired(told);
  answer = () => problem(403, 'admin_required', 'Only administrators can do that.');
  await expect(Api.resetMfa(5)).rejects.toThrow('Only administrators can do that.');
  expect(told).not.toHaveBeenCalled();
  answer = () => problem(403, 'admin_elevation_required', 'Confirm your password to administer, then try again.');
  await expect(Api.resetMfa(5)).rejects.toThrow('Confirm your password to administer');
  expect(told).toHaveBeenCalledTimes(1);
  onAdminElevationRequired(() => {});
});
