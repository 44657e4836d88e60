// @vitest-environment jsdom
// Emergency access: the form checks the reason before anything is sent and puts the server's
// refusals next to the field they are about; the code field shows only with two-step sign-in; a
// space read under a grant is read-only under a banner that ends it; and a review that finds a
// grant unjustified needs a note.
import { act, type ReactNode } from 'react';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, problemField, setCsrfToken, type User } from '../api';
import type { EligibleSpace, EmergencyGrant } from '../emergencyApi';
import { endText, leaveEmergencySpace, reasonProblem, redactedText, reviewText } from '../lib/emergency';
import { timeOfDay } from '../lib/format';
import { AppContext, type AppContextValue } from '../state';
import EmergencyPage, { EmergencyForm } from '../pages/Emergency';
import EmergencyGrants from '../pages/compliance/EmergencyGrants';
import SpaceView from '../space/SpaceView';
import { button, byLabel, errorOf, polyfillDialogs, settle, submit, type } from './dom';
import { mount } from './mount';

interface Sent { url: string; method: string; body: unknown }
const sent: Sent[] = [];
let answer: (url: string, method: string, body: unknown) => Response = () => new Response(null, { status: 500 });
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: string, detail: string, extra: Record<string, unknown> = {}) =>
  json(status, { type: `https://rounds.example/problems/${code}`, title: 'Refused', status, code, detail, ...extra });
const posts = (path: string) => sent.filter((s) => s.method === 'POST' && s.url.startsWith(path));

const ME: User = {
  id: 5, username: 'bo', display_name: 'Bo Nurse', email: 'bo@example.org', job_role: 'Registered Nurse', department_ids: [],
  kind: 'staff', is_admin: false, is_compliance: false, disabled: false, created_at: 0,
};
const OFFICER: User = { ...ME, id: 9, username: 'cora', display_name: 'Cora Privacy', is_compliance: true };
const ICU: EligibleSpace = { id: 7, name: 'icu-handover', kind: 'channel', template: 'Clinical team (PHI allowed)' };
const NOW = Date.now();
const grant = (over: Partial<EmergencyGrant> = {}): EmergencyGrant => ({
  id: 12, user: { id: 5, username: 'bo', display_name: 'Bo Nurse' }, space: { id: 7, name: 'icu-handover', kind: 'channel' },
  reason: 'Covering the unit tonight, patient deteriorating', purpose: 'BTG', started_at: NOW - 600_000, expires_at: NOW + 3_000_000,
  active: true, ended_at: null, end: null, ended_by: null, review: null, ...over,
});

const toast = vi.fn();
function withApp(node: ReactNode, me: User = ME) {
  const ctx = {
    me, setMe: () => {}, spaces: [], spacesLoaded: true, reloadSpaces: async () => {}, addSpace: () => {}, online: new Set<number>(),
    status: 'live', stream: { seed: () => {}, forget: () => {}, typing: () => {} }, subscribe: () => () => {}, announce: () => {},
    toast, markSeen: () => {}, openCreateSpace: () => {}, openNewDirect: () => {},
  } as unknown as AppContextValue;
  return <AppContext.Provider value={ctx}>{node}</AppContext.Provider>;
}


beforeAll(() => {
  polyfillDialogs();
  if (!Element.prototype.scrollIntoView) Element.prototype.scrollIntoView = () => {};
});
beforeEach(() => {
  sent.length = 0;
  toast.mockClear();
  setCsrfToken('token');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    const body = init.body ? JSON.parse(String(init.body)) : null;
    sent.push({ url, method: init.method ?? 'GET', body });
    return answer(url, init.method ?? 'GET', body);
  }));
});
afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
  history.replaceState(null, '', '#/');
});

describe('the emergency access form', () => {
  const open = (twoStep = false) => mount(withApp(<EmergencyForm space={ICU} twoStep={twoStep} onClose={() => {}} onOpened={onOpened} />)).el;
  const onOpened = vi.fn();
  beforeEach(() => onOpened.mockClear());

  it('warns that it is recorded and reviewed, and lasts an hour unless shortened', () => {
    const el = open();
    expect(el.ownerDocument.querySelector('.emergency-warning')!.textContent)
      .toContain('This is recorded, the privacy office is alerted at once, and every grant is reviewed.');
    const duration = byLabel(document.body, 'Duration') as unknown as HTMLSelectElement;
    expect(duration.value).toBe('60');
    expect([...duration.options].map((o) => o.value)).toEqual(['15', '30', '60']);
  });

  it('refuses a reason under 10 characters (spaces aside) without asking the server', async () => {
    answer = () => json(201, grant());
    open();
    const reason = byLabel(document.body, 'Reason')!;
    type(reason, '   urgent!   ');
    type(byLabel(document.body, 'Your password'), 'correct horse battery');
    await submit(document.body);
    expect(sent).toEqual([]);
    expect(reason.getAttribute('aria-invalid')).toBe('true');
    expect(errorOf(reason)!.textContent).toContain('at least 10 characters');
    expect(document.activeElement).toBe(reason);
    expect(onOpened).not.toHaveBeenCalled();

    type(reason, '  Patient deteriorating, covering tonight  ');
    const duration = byLabel(document.body, 'Duration') as unknown as HTMLSelectElement;
    act(() => { duration.value = '15'; duration.dispatchEvent(new Event('change', { bubbles: true })); });
    await submit(document.body);
    expect(posts('/api/v1/emergency-access').map((s) => s.body)).toEqual([
      { space_id: 7, reason: 'Patient deteriorating, covering tonight', password: 'correct horse battery', minutes: 15 },
    ]);
    expect(onOpened).toHaveBeenCalledWith(grant());
  });

  it('puts the server\'s refusal next to the field it names', async () => {
    answer = () => problem(400, 'invalid_value', 'Say why you need emergency access, in 10 to 1,000 characters.', { field: '/reason' });
    open();
    const reason = byLabel(document.body, 'Reason')!;
    const password = byLabel(document.body, 'Your password')!;
    type(reason, 'a reason the server refuses');
    type(password, 'pw');
    await submit(document.body);
    expect(errorOf(reason)!.textContent).toBe('Say why you need emergency access, in 10 to 1,000 characters.');
    expect(errorOf(password)).toBeNull();

    // A duration named by `field` alone lands under the duration.
    answer = () => problem(400, 'invalid_value', 'Emergency access lasts 5 to 60 minutes.', { field: '/minutes' });
    await submit(document.body);
    const duration = byLabel(document.body, 'Duration')!;
    expect(errorOf(duration)!.textContent).toBe('Emergency access lasts 5 to 60 minutes.');
    expect(errorOf(reason)).toBeNull();
  });

  it('shows a wrong password under the password, clears it, and opens nothing', async () => {
    answer = () => problem(403, 'invalid_credentials', 'The password is not right.');
    open();
    type(byLabel(document.body, 'Reason'), 'Patient deteriorating, covering tonight');
    const password = byLabel(document.body, 'Your password')!;
    type(password, 'wrong password');
    await submit(document.body);
    expect(errorOf(password)!.textContent).toBe('The password is not right.');
    expect(password.value).toBe('');
    expect(password.getAttribute('aria-invalid')).toBe('true');
    expect(onOpened).not.toHaveBeenCalled();
  });

  it('shows a refusal about the space as a whole above the buttons', async () => {
    answer = () => problem(409, 'grant_active', 'You already have emergency access to this space.');
    open();
    type(byLabel(document.body, 'Reason'), 'Patient deteriorating, covering tonight');
    type(byLabel(document.body, 'Your password'), 'pw');
    await submit(document.body);
    expect(document.querySelector('.emergency-form [role="alert"]')!.textContent).toBe('You already have emergency access to this space.');
  });

  it('asks for a code only when the account has two-step sign-in', async () => {
    open(false);
    expect(byLabel(document.body, 'Authentication code')).toBeNull();
    for (const el of [...document.body.children]) el.remove();

    answer = () => json(201, grant());
    open(true);
    const code = byLabel(document.body, 'Authentication code')!;
    expect(code).not.toBeNull();
    type(byLabel(document.body, 'Reason'), 'Patient deteriorating, covering tonight');
    type(byLabel(document.body, 'Your password'), 'pw');
    type(code, '12345');
    await submit(document.body);
    expect(sent).toEqual([]);
    expect(errorOf(code)!.textContent).toContain('6-digit code');
    type(code, '123 456');
    await submit(document.body);
    expect(posts('/api/v1/emergency-access')[0]!.body).toMatchObject({ code: '123456' });
  });

  it('shows the code field when the server asks for one', async () => {
    answer = () => problem(400, 'code_required', 'Enter the code from your authenticator app as well.', { field: '/code' });
    open(false);
    type(byLabel(document.body, 'Reason'), 'Patient deteriorating, covering tonight');
    type(byLabel(document.body, 'Your password'), 'pw');
    await submit(document.body);
    const code = byLabel(document.body, 'Authentication code')!;
    expect(code).not.toBeNull();
    expect(errorOf(code)!.textContent).toBe('Enter the code from your authenticator app as well.');
  });
});

describe('the Emergency access screen', () => {
  it('lists the spaces with their policy, learns of two-step sign-in from /me, and shows my grants', async () => {
    answer = (url) => {
      if (url === '/api/v1/me') return json(200, { user: ME, csrf_token: 't', mfa: { enabled: true, required: false, recovery_codes_left: 8 } });
      if (url.startsWith('/api/v1/emergency-access/spaces')) return json(200, { items: [ICU, { id: 8, name: 'Oncology', kind: 'community', template: 'Clinical team (PHI allowed)' }], next_cursor: null });
      if (url.startsWith('/api/v1/emergency-access?')) {
        return json(200, { items: [
          grant({ id: 14, space: { id: 8, name: 'Oncology', kind: 'community' } }),
          grant({ id: 3, active: false, end: 'revoked', ended_at: NOW - 100_000, ended_by: { id: 9, username: 'cora', display_name: 'Cora Privacy' },
            review: { outcome: 'unjustified', note: 'Not a patient of the unit', by: { id: 9, username: 'cora', display_name: 'Cora Privacy' }, at: NOW } }),
        ], next_cursor: null });
      }
      return json(404, {});
    };
    const { el } = mount(withApp(<EmergencyPage />));
    await settle(260);
    expect(sent.find((s) => s.url.startsWith('/api/v1/emergency-access?'))!.url).toContain('scope=mine');
    const found = el.querySelector('ul[aria-label="Spaces you can open with emergency access"]')!;
    expect(found.textContent).toContain('# icu-handover');
    expect(found.textContent).toContain('Clinical team (PHI allowed)');
    // Oncology is open to me already: it is a link to the space, not a new grant.
    expect(found.querySelector('a[href="#/space/8"]')).not.toBeNull();

    const open = el.querySelector('ul[aria-label="Open now"]')!;
    expect(open.textContent).toContain('Oncology');
    expect(button(open, 'End now')).toBeDefined();
    const past = el.querySelector('ul[aria-label="Past"]')!;
    expect(past.textContent).toContain('Revoked');
    expect(past.textContent).toContain('by Cora Privacy');
    expect(past.textContent).toContain('Unjustified by Cora Privacy: Not a patient of the unit');
    expect(button(past, 'End now')).toBeUndefined();

    act(() => (found.querySelector('button.emergency-space') as HTMLButtonElement).click());
    expect(document.querySelector('dialog[open] h2')!.textContent).toBe('Emergency access to # icu-handover');
    expect(byLabel(document.body, 'Authentication code')).not.toBeNull();
  });

  it('opens the space once granted, and says when patient identifiers were taken out of the reason', async () => {
    answer = (url, method) => {
      if (url === '/api/v1/me') return json(200, { user: ME, csrf_token: 't', mfa: { enabled: false, required: false, recovery_codes_left: 0 } });
      if (url.startsWith('/api/v1/emergency-access/spaces')) return json(200, { items: [ICU], next_cursor: null });
      if (method === 'POST' && url === '/api/v1/emergency-access') {
        return json(201, { ...grant({ reason: 'Son called from [REDACTED:PHONE], crashing' }), reason_redacted: 'phone,health_plan' });
      }
      return json(200, { items: [], next_cursor: null });
    };
    const { el } = mount(withApp(<EmergencyPage />));
    await settle(260);
    act(() => (el.querySelector('button.emergency-space') as HTMLButtonElement).click());
    type(byLabel(document.body, 'Reason'), 'Son called from 617-555-0142, crashing');
    type(byLabel(document.body, 'Your password'), 'the-right-password');
    await submit(document.querySelector('dialog[open]')!);
    expect(posts('/api/v1/emergency-access')).toHaveLength(1);
    expect(toast).toHaveBeenCalledWith({ text: 'Patient identifiers (phone, health plan) were taken out of your reason: the audit trail keeps none.' });
    expect(location.hash).toBe('#/space/7');
    expect(redactedText(undefined, 'reason')).toBeNull();
  });

  it('is not offered to patients', async () => {
    answer = () => json(200, { items: [], next_cursor: null });
    const { el } = mount(withApp(<EmergencyPage />, { ...ME, kind: 'patient' }));
    await settle(260);
    expect(el.textContent).toContain('Emergency access is for staff accounts.');
    expect(sent.some((s) => s.url.startsWith('/api/v1/emergency-access'))).toBe(false);
  });
});

describe('a space read with emergency access', () => {
  const expires = NOW + 25 * 60_000;
  const space = (extra: Record<string, unknown>) => ({
    id: 7, kind: 'channel', name: 'icu-handover', topic: 'Handover', visibility: 'private', join_policy: 'invite', archived: false,
    created_by: 1, created_at: 0, last_seq: 1, member_count: 4, my_role: null, read_seq: 1, unread_count: 0, unread_mentions: 0,
    template: { key: 'clinical-team', version: 1, name: 'Clinical team', phi: 'allow', moderation: 'none', audience: 'staff' }, ...extra,
  });
  const message = {
    id: 40, space_id: 7, seq: 1, author_id: 3, author: { id: 3, username: 'ana', display_name: 'Ana Lima' }, kind: 'message', parent_id: null,
    title: '', body: 'Bed 4 needs a review at 2am', client_id: 'c1', created_at: NOW - 60_000, edited_at: 0, deleted: false, pinned: false,
    accepted_answer_id: null, reply_count: 0, vote_count: 0, my_vote: false, poll_options: [], my_poll_vote: null,
    reactions: [{ emoji: '👍', count: 1, mine: false }], mentions: [], state: 'published',
  };
  const answering = (s: unknown) => (url: string, method: string) => {
    if (url === '/api/v1/spaces/7') return json(200, s);
    if (url.startsWith('/api/v1/spaces/7/messages')) return json(200, { items: [message], next_cursor: null });
    if (url === '/api/v1/emergency-access/12/end' && method === 'POST') return json(200, grant({ active: false, end: 'ended', ended_at: NOW }));
    return json(404, {});
  };

  it('shows when it ends under a banner, and no composer, joining or reacting', async () => {
    // As the server answers a reader who is not a member: no read marker of their own.
    answer = answering(space({ emergency: { grant_id: 12, expires_at: expires }, read_seq: 0 }));
    history.replaceState(null, '', '#/space/7');
    const { el } = mount(withApp(<SpaceView spaceId={7} />));
    await settle();
    await settle();
    expect(el.querySelector('[data-message-id="40"]')!.textContent).toContain('Bed 4 needs a review at 2am');
    expect(el.querySelector('.unread-divider')).toBeNull();
    const banner = el.querySelector('.emergency-banner [role="alert"]')!;
    expect(banner.textContent).toBe(`Emergency access — ends at ${timeOfDay(expires)}. Every read is recorded and reviewed.`);
    expect(byLabel(el, 'Message')).toBeNull();
    expect(el.querySelector('textarea')).toBeNull();
    expect(el.querySelector('.join-bar')).toBeNull();
    expect(button(el, 'Members')).toBeUndefined();
    expect(el.querySelector('button[aria-label="Add reaction"]')).toBeNull();
    expect((el.querySelector('.reaction') as HTMLButtonElement).disabled).toBe(true);
    expect(el.querySelector('.tools')!.textContent).not.toMatch(/Report|Delete|Edit/);

    // Refresh loads the messages again (no live events arrive for the space).
    const before = sent.filter((s) => s.url.startsWith('/api/v1/spaces/7/messages')).length;
    act(() => button(el, 'Refresh')!.click());
    await settle();
    expect(sent.filter((s) => s.url.startsWith('/api/v1/spaces/7/messages')).length).toBe(before + 1);

    act(() => button(el, 'End now')!.click());
    await settle();
    expect(posts('/api/v1/emergency-access/12/end')).toHaveLength(1);
    expect(location.hash).toBe('#/emergency');
    expect(toast).toHaveBeenCalledWith({ text: 'You ended your emergency access to # icu-handover.' });
  });

  it('keeps the composer for a member, where there is no banner', async () => {
    answer = answering(space({ my_role: 'member' }));
    const { el } = mount(withApp(<SpaceView spaceId={7} />));
    await settle();
    await settle();
    expect(el.querySelector('.emergency-banner')).toBeNull();
    expect(byLabel(el, 'Message')).not.toBeNull();
  });
});

describe('the compliance section', () => {
  const ended = grant({ id: 20, active: false, end: 'expired', ended_at: NOW - 1000 });
  const list = (state: string) => (state === 'active' ? [grant()] : state === 'unreviewed' ? [ended] : [grant(), ended]);

  it('filters by state, offers Revoke while active and Review once over', async () => {
    answer = (url) => json(200, { items: list(new URL(url, 'http://x').searchParams.get('state') ?? 'all'), next_cursor: null });
    const { el } = mount(withApp(<EmergencyGrants />, OFFICER));
    await settle();
    const first = sent[0]!.url;
    expect(first).toContain('scope=all');
    expect(first).toContain('state=all');
    const rows = [...el.querySelectorAll('.grants-table tbody tr')];
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain('Bo Nurse');
    expect(rows[0]!.textContent).toContain('Covering the unit tonight');
    expect(rows[0]!.querySelector('button')!.textContent).toBe('Revoke');
    expect(rows[1]!.textContent).toContain('Expired');
    expect(rows[1]!.textContent).toContain('Awaiting review');
    expect(rows[1]!.querySelector('button')!.textContent).toBe('Review');

    const show = byLabel(el, 'Show') as unknown as HTMLSelectElement;
    act(() => { show.value = 'unreviewed'; show.dispatchEvent(new Event('change', { bubbles: true })); });
    await settle();
    expect(sent[sent.length - 1]!.url).toContain('state=unreviewed');
    expect(el.querySelectorAll('.grants-table tbody tr')).toHaveLength(1);
  });

  it('requires a note to find a grant unjustified before anything is sent', async () => {
    answer = (url, method) => {
      if (method === 'POST' && url === '/api/v1/emergency-access/20/review') {
        return json(200, { ...ended, review: { outcome: 'unjustified', note: 'x', by: null, at: NOW }, note_redacted: 'ssn' });
      }
      return json(200, { items: [ended], next_cursor: null });
    };
    const { el } = mount(withApp(<EmergencyGrants />, OFFICER));
    await settle();
    act(() => button(el, 'Review')!.click());
    const dialog = document.querySelector('dialog[open]') as HTMLElement;
    expect(byLabel(dialog, 'Note (optional)')).not.toBeNull();
    act(() => (dialog.querySelector('input[value="unjustified"]') as HTMLInputElement).click());
    const note = byLabel(dialog, 'Note')!;
    await submit(dialog);
    expect(posts('/api/v1/emergency-access/20/review')).toEqual([]);
    expect(errorOf(note)!.textContent).toContain('Say why it was not justified');

    // A note of spaces is no note either.
    type(note, '   ');
    await submit(dialog);
    expect(posts('/api/v1/emergency-access/20/review')).toEqual([]);
    expect(errorOf(note)).not.toBeNull();

    type(note, 'Not a patient of the unit');
    await submit(dialog);
    expect(posts('/api/v1/emergency-access/20/review').map((s) => s.body)).toEqual([{ outcome: 'unjustified', note: 'Not a patient of the unit' }]);
    expect(el.querySelector('[role="status"]')!.textContent).toContain('unjustified');
    expect(el.querySelector('[role="status"]')!.textContent).toContain('Patient identifiers (ssn) were taken out of your note');
  });

  it('shows the server\'s refusal of a note under the note', async () => {
    answer = (_url, method) => {
      if (method === 'POST') return problem(400, 'invalid_value', 'A note is at most 2,000 characters.', { field: '/note' });
      return json(200, { items: [ended], next_cursor: null });
    };
    const { el } = mount(withApp(<EmergencyGrants />, OFFICER));
    await settle();
    act(() => button(el, 'Review')!.click());
    const dialog = document.querySelector('dialog[open]') as HTMLElement;
    const note = byLabel(dialog, 'Note (optional)')!;
    type(note, 'fine');
    await submit(dialog);
    expect(posts('/api/v1/emergency-access/20/review').map((s) => s.body)).toEqual([{ outcome: 'justified', note: 'fine' }]);
    expect(errorOf(note)!.textContent).toBe('A note is at most 2,000 characters.');
  });
});

describe('emergency access in words', () => {
  it('counts a reason in characters after trimming', () => {
    expect(reasonProblem('  123456789  ')).not.toBe('');
    expect(reasonProblem('1234567890')).toBe('');
    expect(reasonProblem('é'.repeat(10))).toBe('');
    expect(reasonProblem('x'.repeat(1001))).toContain('1,000');
  });

  it('says how a grant ended and what its review found', () => {
    const cora = { id: 9, username: 'cora', display_name: 'Cora Privacy' };
    expect(endText(grant())).toBe(`Active until ${timeOfDay(grant().expires_at)}`);
    expect(endText(grant({ active: false, end: 'ended', ended_at: NOW, ended_by: grant().user }), 5)).toMatch(/^Ended .* by you$/);
    expect(endText(grant({ active: false, end: 'revoked', ended_at: NOW, ended_by: cora }), 5)).toMatch(/^Revoked .* by Cora Privacy$/);
    // Revoked from the command line: the system, no account.
    const bySystem = endText(grant({ active: false, end: 'revoked', ended_at: NOW, ended_by: null }), 5);
    expect(bySystem).toMatch(/^Revoked /);
    expect(bySystem).not.toContain(' by ');
    expect(endText(grant({ active: false, end: null }))).toMatch(/^Expired /);
    expect(reviewText(grant())).toBe('');
    expect(reviewText(grant({ active: false }))).toBe('Awaiting review');
    expect(reviewText(grant({ active: false, review: { outcome: 'justified', note: '', by: cora, at: NOW } }))).toBe('Justified by Cora Privacy');
  });

  it('reads the field of a refusal from its field', () => {
    expect(problemField(new ApiError(400, 'invalid_value', 'x', '/minutes'))).toBe('minutes');
    expect(problemField(new ApiError(409, 'grant_active', 'x'))).toBeUndefined();
    expect(problemField(new Error('x'))).toBeUndefined();
  });

  it('leaves the space only while it is on screen', () => {
    const tell = vi.fn();
    history.replaceState(null, '', '#/people');
    leaveEmergencySpace(7, 'ended', tell);
    expect(tell).not.toHaveBeenCalled();
    expect(location.hash).toBe('#/people');
    history.replaceState(null, '', '#/space/7');
    leaveEmergencySpace(7, 'ended', tell);
    expect(tell).toHaveBeenCalledWith({ text: 'ended' });
    expect(location.hash).toBe('#/emergency');
  });
});
