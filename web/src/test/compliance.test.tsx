// @vitest-environment jsdom
// Compliance officers name spaces and custodians by name: the space picker searches every space
// (scope=all), the custodian picker lists disabled accounts too, and an export sends the ids of
// what was picked.
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api';
import SpacePicker, { type PickedSpace } from '../components/SpacePicker';
import AuditPage from '../pages/compliance/AuditPage';
import ExportsPage from '../pages/compliance/ExportsPage';
import TemplatesPage from '../pages/compliance/TemplatesPage';
import { toggled } from '../lib/pick';
import { byLabel, errorOf, polyfillDialogs, submit, type } from './dom';
import { mount } from './mount';

interface Sent { url: string; method: string; body: unknown }
const sent: Sent[] = [];
let answer: (url: string, method: string) => Response = () => new Response(null, { status: 500 });
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
// Past the pickers' 200 ms pause before they search, and the answers applied.
const searched = () => act(async () => { await new Promise((r) => setTimeout(r, 260)); for (let i = 0; i < 5; i++) await Promise.resolve(); });

const row = (el: HTMLElement, list: string, text: string) =>
  [...el.querySelectorAll(`ul[aria-label="${list}"] label.picker-row`)].find((l) => l.textContent!.includes(text)) as HTMLLabelElement | undefined;
const box = (label: HTMLLabelElement | undefined) => label!.querySelector('input[type="checkbox"]') as HTMLInputElement;

const space = (id: number, name: string, extra: Record<string, unknown> = {}) => ({
  id, kind: 'channel', name, topic: '', visibility: 'public', join_policy: 'open', archived: false, created_by: 1, created_at: 0,
  last_seq: 0, member_count: 2, my_role: null, read_seq: 0, unread_count: 0, unread_mentions: 0,
  template: { key: 'clinical-team', version: 1, name: 'Clinical team', phi: 'allow', moderation: 'none', audience: 'staff' }, ...extra,
});
const SPACES = [space(7, 'ward-7-nights', { visibility: 'private' }), space(9, 'ward-9-2019', { archived: true })];
const PEOPLE = [
  { id: 3, username: 'ana', display_name: 'Ana Lima', job_role: 'Nurse', disabled: false },
  { id: 5, username: 'gone.away', display_name: 'Gale Way', job_role: 'Porter', disabled: true },
];

beforeEach(() => {
  sent.length = 0;
  setCsrfToken('token');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    sent.push({ url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : null });
    return answer(url, init.method ?? 'GET');
  }));
});
afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe('the space picker', () => {
  it('searches every space by name and shows which are private or archived', async () => {
    answer = (url) => json(200, { items: url.includes('q=ward') ? SPACES : [], next_cursor: null });
    let picked: PickedSpace[] = [];
    const onToggle = vi.fn((s: PickedSpace) => { picked = toggled(picked, s); });
    const { el, root } = mount(<SpacePicker label="Spaces" selected={picked} onToggle={onToggle} max={1} />);
    await searched();
    expect(el.textContent).toContain('No space found.');
    type(byLabel(el, 'Spaces'), ' ward ');
    await searched();
    const url = sent[sent.length - 1]!.url;
    expect(url).toContain('scope=all');
    expect(url).toContain('q=ward');
    expect(row(el, 'Spaces: spaces found', 'ward-7-nights')!.textContent).toContain('private');
    expect(row(el, 'Spaces: spaces found', 'ward-9-2019')!.textContent).toContain('archived');
    act(() => box(row(el, 'Spaces: spaces found', 'ward-7-nights')).click());
    expect(onToggle).toHaveBeenCalledWith({ id: 7, name: 'ward-7-nights' });
    act(() => root.render(<SpacePicker label="Spaces" selected={picked} onToggle={onToggle} max={1} />));
    expect(el.querySelector('ul[aria-label="Spaces: chosen"]')!.textContent).toContain('ward-7-nights');
    // One space at most here: the others cannot be ticked until it is removed.
    expect(box(row(el, 'Spaces: spaces found', 'ward-9-2019')).disabled).toBe(true);
    expect(box(row(el, 'Spaces: spaces found', 'ward-7-nights')).checked).toBe(true);
  });

  it('offers direct conversations where asked, found and named by their people', async () => {
    answer = (url) => json(200, {
      items: url.includes('kind=direct') && url.includes('q=okafor')
        ? [{ id: 31, kind: 'direct', name: '', visibility: 'private', archived: false,
             members: [{ id: 44, username: 'amara.okafor', display_name: 'Amara Okafor' }, { id: 45, username: 'ben', display_name: 'Ben Hartley' }] }]
        : [],
      next_cursor: null,
    });
    const onToggle = vi.fn();
    const { el } = mount(<SpacePicker label="Spaces" includeDirect selected={[]} onToggle={onToggle} />);
    await searched();
    act(() => (el.querySelector('[aria-label="Spaces: kind"] input[type="radio"]:not(:checked)') as HTMLInputElement).click());
    type(byLabel(el, 'Spaces'), 'okafor');
    await searched();
    expect(sent[sent.length - 1]!.url).toContain('kind=direct');
    const found = row(el, 'Spaces: spaces found', 'Amara Okafor, Ben Hartley')!;
    act(() => box(found).click());
    expect(onToggle).toHaveBeenCalledWith({ id: 31, name: 'Amara Okafor, Ben Hartley' });
    // Without includeDirect there is no choice of kind.
    const plain = mount(<SpacePicker label="Rooms" selected={[]} onToggle={() => {}} />);
    expect(plain.el.querySelector('[aria-label="Rooms: kind"]')).toBeNull();
  });

  it('shows the server\'s refusal to anyone but an officer', async () => {
    answer = () => json(403, { type: 'about:blank', title: 'Forbidden', status: 403, code: 'compliance_required', detail: 'Only compliance officers can list every space.' });
    const { el } = mount(<SpacePicker label="Spaces" selected={[]} onToggle={() => {}} />);
    await searched();
    expect(el.querySelector('.error[role="alert"]')!.textContent).toBe('Only compliance officers can list every space.');
  });
});

describe('the audit trail', () => {
  it('names each actor, and a click on one shows only their records', async () => {
    const record = (seq: number, actor_id: number, actor: unknown) => ({
      seq, time: 0, actor_id, actor_role: actor_id ? 'staff' : 'system', action: 'message.create', object_type: 'message',
      object_id: String(seq), outcome: 'success', actor,
    });
    answer = (url) => {
      if (url.startsWith('/api/v1/audit/verify')) return json(200, { state: 'idle' });
      if (url.startsWith('/api/v1/audit')) {
        return json(200, { items: [record(2, 44, { id: 44, username: 'amara.okafor', display_name: 'Amara Okafor' }), record(1, 0, null)], next_cursor: null });
      }
      return json(200, {});
    };
    const { el } = mount(<AuditPage />);
    await searched();
    const rows = [...el.querySelectorAll('.audit-table tbody tr')];
    expect(rows[0]!.textContent).toContain('Amara Okafor');
    expect(rows[0]!.textContent).toContain('@amara.okafor');
    expect(rows[1]!.textContent).toContain('—');
    const before = sent.filter((s) => s.url.startsWith('/api/v1/audit?')).length;
    act(() => (el.querySelector('button[aria-label="Only records by Amara Okafor"]') as HTMLButtonElement).click());
    await searched();
    const searches = sent.filter((s) => s.url.startsWith('/api/v1/audit?'));
    expect(searches.length).toBe(before + 1);
    expect(searches[searches.length - 1]!.url).toContain('actor_id=44');
    expect(el.querySelector('.person-field button[aria-label="Remove Amara Okafor"]')).not.toBeNull();
    // Removing the person and searching again drops the filter.
    act(() => (el.querySelector('.person-field button[aria-label="Remove Amara Okafor"]') as HTMLButtonElement).click());
    act(() => (el.querySelector('form[role="search"]') as HTMLFormElement).requestSubmit());
    await searched();
    expect(sent.filter((s) => s.url.startsWith('/api/v1/audit?')).pop()!.url).not.toContain('actor_id');
  });

  it('names the space a record is about, and a click on it shows only that space\'s records', async () => {
    answer = (url) => {
      if (url.startsWith('/api/v1/audit/verify')) return json(200, { state: 'idle' });
      if (url.startsWith('/api/v1/audit')) {
        return json(200, { items: [
          { seq: 3, time: 0, actor_id: 44, actor_role: 'staff', action: 'message.list', object_type: 'space', object_id: '7', outcome: 'success',
            reason: 'break-the-glass', actor: null, space: { id: 7, name: 'icu-handover', kind: 'channel' } },
          { seq: 2, time: 0, actor_id: 44, actor_role: 'staff', action: 'message.list', object_type: 'space', object_id: '9', outcome: 'success', actor: null, space: null },
        ], next_cursor: null });
      }
      return json(200, {});
    };
    const { el } = mount(<AuditPage />);
    await searched();
    const rows = [...el.querySelectorAll('.audit-table tbody tr')];
    expect(rows[0]!.textContent).toContain('space icu-handover');
    expect(rows[1]!.textContent).toContain('space 9');  // removed since: its id
    act(() => (el.querySelector('button[aria-label="Only records about icu-handover"]') as HTMLButtonElement).click());
    await searched();
    const last = sent.filter((s) => s.url.startsWith('/api/v1/audit?')).pop()!.url;
    expect(last).toContain('object_type=space');
    expect(last).toContain('object_id=7');
    expect((el.querySelector('#audit-object_id') as HTMLInputElement).value).toBe('7');
  });

  it('lists the patients a record names, and finds one patient\'s records by MRN or by a click', async () => {
    const a = 'Patient/mrn-0123456789abcdef';
    const b = 'Patient/mrn-fedcba9876543210';
    answer = (url) => {
      if (url.startsWith('/api/v1/audit/verify')) return json(200, { state: 'idle' });
      if (url.startsWith('/api/v1/audit')) {
        return json(200, { items: [
          { seq: 5, time: 0, actor_id: 44, actor_role: 'staff', action: 'message.list', object_type: 'space', object_id: '7',
            patient_ref: `${a} ${b}`, outcome: 'success', actor: null, space: null },
          { seq: 4, time: 0, actor_id: 44, actor_role: 'staff', action: 'message.list', object_type: 'space', object_id: '7',
            patient_ref: '', outcome: 'success', actor: null, space: null },
        ], next_cursor: null });
      }
      return json(200, {});
    };
    const { el } = mount(<AuditPage />);
    await searched();
    const rows = [...el.querySelectorAll('.audit-table tbody tr')];
    expect(rows[0]!.textContent).toContain('2 patients: 01234567, fedcba98');
    expect(rows[1]!.textContent).not.toContain('patient');
    // By MRN: sent as typed; the server turns it into the reference.
    const mrn = el.querySelector('#audit-patient') as HTMLInputElement;
    act(() => {
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      set.call(mrn, 'MR-48213377');
      mrn.dispatchEvent(new Event('input', { bubbles: true }));
    });
    act(() => (el.querySelector('form[role="search"]') as HTMLFormElement).requestSubmit());
    await searched();
    expect(sent.filter((s) => s.url.startsWith('/api/v1/audit?')).pop()!.url).toContain('patient=MR-48213377');
    // By a click on a record's patient: the reference, in place of the MRN.
    act(() => (el.querySelector(`button[aria-label="Only records about patient ${b}"]`) as HTMLButtonElement).click());
    await searched();
    const last = sent.filter((s) => s.url.startsWith('/api/v1/audit?')).pop()!.url;
    expect(last).toContain(`patient_ref=${encodeURIComponent(b)}`);
    expect(last).not.toContain('patient=');
    expect(el.querySelector('[data-testid="audit-patient-ref"]')!.textContent).toContain(b);
    // Any patient again: the MRN field is back, empty.
    act(() => (el.querySelector('button[aria-label="Any patient"]') as HTMLButtonElement).click());
    expect((el.querySelector('#audit-patient') as HTMLInputElement).value).toBe('');
  });

  it('says where the checkpoints go off the host, and says so plainly when they are not getting there', async () => {
    const verdict = (witness: unknown) => ({
      ok: true, records_checked: 10, checkpoints_checked: 2, first_bad_seq: null, problem: null, head_seq: 10,
      checked_at: 1_000, started_at: 900, started_by: 'cora', seconds: 0.1, running: false, running_since: null,
      running_records_checked: null, anchored: true, witness,
    });
    let witness: unknown = { address: 'siem.example.org:6514', tls: true, connected: true, last_sent_at: 1_000, pending: 0,
      dropped: 0, feed: true, feed_behind: 0 };
    answer = (url) => {
      if (url.startsWith('/api/v1/audit/verify')) return json(200, verdict(witness));
      return json(200, { items: [], next_cursor: null });
    };
    let { el } = mount(<AuditPage />);
    await searched();
    let line = el.querySelector('[data-testid="audit-witness"]')!;
    expect(line.textContent).toContain('Checkpoints go to siem.example.org:6514 over TLS: connected · last sent');
    expect(line.textContent).toContain('every record too');
    expect(line.textContent).not.toContain('still to send');
    expect(line.className).not.toContain('error');
    expect(el.querySelector('[data-testid="audit-verify-counts"]')!.textContent).not.toContain('signing key');

    witness = { address: '10.0.0.9:514', tls: false, connected: false, last_sent_at: null, pending: 3, dropped: 1,
      feed: true, feed_behind: 250 };
    ({ el } = mount(<AuditPage />));
    await searched();
    line = el.querySelector('[data-testid="audit-witness"]')!;
    expect(line.className).toContain('error');
    expect(line.textContent).toBe('Checkpoints go to 10.0.0.9:514 without encryption: not reachable now; they are sent once it is back · '
      + '3 messages waiting · 1 checkpoint dropped from a full queue · every record too, 250 records still to send');

    witness = null;
    ({ el } = mount(<AuditPage />));
    await searched();
    expect(el.querySelector('[data-testid="audit-witness"]')!.textContent).toContain('No witness off the host');

    // A trail whose signing key was changed: the hand-overs followed are said.
    answer = (url) => {
      if (url.startsWith('/api/v1/audit/verify')) return json(200, { ...verdict(null), key_changes: 2 });
      return json(200, { items: [], next_cursor: null });
    };
    ({ el } = mount(<AuditPage />));
    await searched();
    expect(el.querySelector('[data-testid="audit-verify-counts"]')!.textContent)
      .toContain('2 signing key changes followed from the first key');
  });

  it('changes the signing key once the officer\'s password confirms it, with the reason given', async () => {
    polyfillDialogs();
    let changes = 0;
    answer = (url, method) => {
      if (url === '/api/v1/audit/signing-key' && method === 'POST') {
        if ((sent.at(-1)?.body as { password?: string } | null)?.password !== 'the-right-password') {
          return new Response(JSON.stringify({ code: 'invalid_credentials', title: 'Forbidden', status: 403, detail: 'The password is not right.' }), { status: 403, headers: { 'content-type': 'application/problem+json' } });
        }
        changes += 1;
        return json(200, { previous_public_key: 'a'.repeat(64), public_key: 'b'.repeat(64), seq: 41 });
      }
      if (url.startsWith('/api/v1/audit/verify')) {
        return json(200, { ok: true, records_checked: 41, checkpoints_checked: 3, first_bad_seq: null, problem: null, head_seq: 41,
          checked_at: 1_000, started_at: 900, started_by: 'cora', seconds: 0.1, running: false, running_since: null,
          running_records_checked: null, anchored: true, witness: null, key_changes: changes });
      }
      return json(200, { items: [], next_cursor: null });
    };
    const { el } = mount(<AuditPage />);
    await searched();
    const button = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Change signing key') as HTMLButtonElement;
    act(() => button.click());
    const dialog = document.querySelector('dialog') as HTMLElement;
    expect(dialog.textContent).toContain('The public key kept off the server still checks the whole trail');
    type(byLabel(dialog, 'Reason (optional)'), '  yearly key change ');
    type(byLabel(dialog, 'Your password'), 'a-wrong-password');
    await submit(dialog);
    const password = byLabel(dialog, 'Your password')!;
    expect(errorOf(password)?.textContent).toBe('The password is not right.');
    expect(el.querySelector('[data-testid="audit-key-changed"]')).toBeNull();
    type(password, 'the-right-password');
    await submit(dialog);
    await searched();
    expect(sent.filter((r) => r.url === '/api/v1/audit/signing-key' && r.method === 'POST')).toEqual([
      { url: '/api/v1/audit/signing-key', method: 'POST', body: { password: 'a-wrong-password', reason: 'yearly key change' } },
      { url: '/api/v1/audit/signing-key', method: 'POST', body: { password: 'the-right-password', reason: 'yearly key change' } },
    ]);
    expect(document.querySelector('dialog')).toBeNull();
    expect(el.querySelector('[data-testid="audit-key-changed"]')!.textContent).toContain('Signing key changed at record 41');
    expect(el.querySelector('[data-testid="audit-verify-counts"]')!.textContent).toContain('1 signing key change followed from the first key');
    // The keys are read again after the change.
    expect(sent.filter((r) => r.url === '/api/v1/audit/signing-key' && r.method === 'GET').length).toBe(2);
  });

  it('shows the key signing now, since when, the next change, the first key in full and each hand-over', async () => {
    const first = 'a'.repeat(64);
    const second = 'b'.repeat(64);
    let keys: unknown = {
      anchor_public_key: first, public_key: second, since: Date.UTC(2026, 10, 2, 9, 30), since_seq: 41,
      changes: [{ seq: 41, time: Date.UTC(2026, 10, 2, 9, 30), previous_public_key: first, public_key: second }],
      change_days: 365, next_change_at: Date.UTC(2027, 10, 2, 9, 30), problem: null,
    };
    answer = (url) => {
      if (url === '/api/v1/audit/signing-key') return json(200, keys);
      if (url.startsWith('/api/v1/audit/verify')) return json(200, { state: 'idle' });
      return json(200, { items: [], next_cursor: null });
    };
    let { el } = mount(<AuditPage />);
    await searched();
    let line = el.querySelector('[data-testid="audit-keys"]')!;
    const summary = line.querySelector('summary')!.textContent!;
    expect(summary).toContain(`Signed by key ${'b'.repeat(16)}…`);
    expect(summary).toContain('(record 41)');
    expect(summary).toContain('next change');
    expect(summary).toContain('2027');
    expect(line.querySelector('[data-testid="audit-anchor-key"]')!.textContent).toBe(first);
    expect(line.querySelector('[data-testid="audit-current-key"]')!.textContent).toBe(second);
    const items = [...line.querySelectorAll('.key-changes li')].map((li) => li.textContent);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatch(/^At record 41, .*: a{16}… handed over to b{16}…$/);
    expect(line.querySelector('.error')).toBeNull();

    // No schedule, the first key still in use, and a forged hand-over that ends the list.
    keys = { anchor_public_key: first, public_key: first, since: 1_000, since_seq: 0, changes: [], change_days: 0,
      next_change_at: null, problem: 'The key change at record 7 is not signed by the key before it.' };
    ({ el } = mount(<AuditPage />));
    await searched();
    line = el.querySelector('[data-testid="audit-keys"]')!;
    expect(line.querySelector('summary')!.textContent).toContain('changed only on request');
    expect(line.querySelector('summary')!.textContent).not.toContain('(record');
    expect(line.textContent).toContain('The first key has signed every checkpoint.');
    expect(line.querySelector('.error')!.textContent).toBe('The key change at record 7 is not signed by the key before it.');
  });

  it('finds the actor to filter by by name, disabled accounts included', async () => {
    answer = (url) => {
      if (url.startsWith('/api/v1/users')) return json(200, { items: [PEOPLE[1]], next_cursor: null });
      if (url.startsWith('/api/v1/audit/verify')) return json(200, { state: 'idle' });
      return json(200, { items: [], next_cursor: null });
    };
    const { el } = mount(<AuditPage />);
    await searched();
    expect(sent.some((s) => s.url.startsWith('/api/v1/users'))).toBe(false);  // nothing typed, nothing asked
    type(byLabel(el, 'Actor'), 'gale');
    await searched();
    const asked = sent.filter((s) => s.url.startsWith('/api/v1/users')).pop()!.url;
    expect(asked).toContain('q=gale');
    expect(asked).toContain('include_disabled=true');
    const suggestion = el.querySelector('ul[aria-label="Actor: people found"] button') as HTMLButtonElement;
    expect(suggestion.textContent).toContain('disabled');
    act(() => suggestion.click());
    act(() => (el.querySelector('form[role="search"]') as HTMLFormElement).requestSubmit());
    await searched();
    expect(sent.filter((s) => s.url.startsWith('/api/v1/audit?')).pop()!.url).toContain('actor_id=5');
  });
});

describe('a template version', () => {
  it('names the spaces under it when asked', async () => {
    const version = (n: number, count: number) => ({
      key: 'ward', version: n, name: 'Ward', description: '', builtin: false, document: { phi: 'warn' }, space_count: count,
    });
    answer = (url) => {
      if (url === '/api/v1/templates') return json(200, { items: [version(1, 2), version(2, 0)] });
      if (url === '/api/v1/templates/ward/versions/1') {
        return json(200, { ...version(1, 2), spaces: [{ id: 7, name: 'ward-7-nights', kind: 'channel', archived: false }, { id: 9, name: 'ward-9-2019', kind: 'channel', archived: true }] });
      }
      return json(200, { items: [], next_cursor: null });
    };
    const { el } = mount(<TemplatesPage templateKey="ward" />);
    await searched();
    // The latest version governs nothing: nothing to list.
    expect(el.querySelector('details.spaces-under')).toBeNull();
    const pick = byLabel(el, 'Version') as unknown as HTMLSelectElement;
    act(() => { pick.value = '1'; pick.dispatchEvent(new Event('change', { bubbles: true })); });
    const details = el.querySelector('details.spaces-under') as HTMLDetailsElement;
    expect(sent.some((s) => s.url === '/api/v1/templates/ward/versions/1')).toBe(false);
    act(() => { details.open = true; details.dispatchEvent(new Event('toggle')); });
    await searched();
    expect(details.textContent).toContain('ward-7-nights');
    expect(details.textContent).toContain('ward-9-2019 channel · archived');
  });
});

describe('the exports list', () => {
  it('names what each export covered, and the id of anything no longer there', async () => {
    answer = (url) => {
      if (url === '/api/v1/exports') {
        return json(200, { items: [{
          id: 'e-1', created_by: 2, created_at: 0, message_count: 3, file_count: 5, manifest_sha256: 'ab',
          query: { custodian_ids: [5, 12], space_ids: [7] },
          custodians: [{ id: 5, username: 'gone.away', display_name: 'Gale Way' }], spaces: [{ id: 7, name: 'ward-7-nights', kind: 'channel' }],
          created_by_user: { id: 2, username: 'cora', display_name: 'Cora Privacy' },
        }] });
      }
      return json(200, { items: [], next_cursor: null });
    };
    const { el } = mount(<ExportsPage />);
    await searched();
    const text = el.querySelector('.exports-table tbody tr')!.textContent!;
    expect(text).toContain('custodians Gale Way, #12');
    expect(text).toContain('spaces ward-7-nights');
    expect(text).toContain('by Cora Privacy');
  });

  it('removes an export\'s files once the officer\'s password confirms it, and then offers no download of them', async () => {
    polyfillDialogs();
    let removed = false;
    const record = {
      id: 'e-2', created_by: 2, created_at: 0, message_count: 3, file_count: 5, manifest_sha256: 'ab', query: {}, expires_at: 2_592_000_000,
      created_by_user: { id: 2, username: 'cora', display_name: 'Cora Privacy' },
    };
    const gone = { ...record, expires_at: null, removed_at: 1_000, removed_by: 2, removed_by_user: record.created_by_user };
    answer = (url, method) => {
      if (url === '/api/v1/exports/e-2' && method === 'DELETE') {
        if ((sent.at(-1)?.body as { password?: string } | null)?.password !== 'the-right-password') {
          return new Response(JSON.stringify({ code: 'invalid_credentials', title: 'Forbidden', status: 403, detail: 'The password is not right.' }), { status: 403, headers: { 'content-type': 'application/problem+json' } });
        }
        removed = true;
        return json(200, gone);
      }
      if (url === '/api/v1/exports') return json(200, { items: [removed ? gone : record] });
      return json(200, { items: [], next_cursor: null });
    };
    const { el } = mount(<ExportsPage />);
    await searched();
    const rowOf = () => el.querySelector('.exports-table tbody tr')!;
    expect(rowOf().querySelector('a[href="/api/v1/exports/e-2/archive"]')).not.toBeNull();
    expect(rowOf().textContent).toContain('Kept on the server until ');  // then the expiry removes the files
    act(() => (rowOf().querySelector('button[aria-label="Remove the files of export e-2"]') as HTMLButtonElement).click());
    expect(sent.some((r) => r.method === 'DELETE')).toBe(false);  // not before the confirmation
    const dialog = document.querySelector('dialog') as HTMLElement;
    await submit(dialog);
    expect(sent.some((r) => r.method === 'DELETE')).toBe(false);  // nor without the password
    expect(errorOf(byLabel(dialog, 'Your password')!)?.textContent).toBe('Enter your password.');
    type(byLabel(dialog, 'Your password'), 'a-wrong-password');
    await submit(dialog);
    const password = byLabel(dialog, 'Your password')!;
    expect(errorOf(password)?.textContent).toBe('The password is not right.');
    expect(password.value).toBe('');
    expect(rowOf().textContent).not.toContain('Removed from the server');
    type(password, 'the-right-password');
    await submit(dialog);
    await searched();
    expect(sent.filter((r) => r.method === 'DELETE')).toEqual([
      { url: '/api/v1/exports/e-2', method: 'DELETE', body: { password: 'a-wrong-password' } },
      { url: '/api/v1/exports/e-2', method: 'DELETE', body: { password: 'the-right-password' } },
    ]);
    expect(rowOf().textContent).toContain('Removed from the server');
    expect(rowOf().textContent).toContain('by Cora Privacy');
    expect(rowOf().querySelectorAll('a')).toHaveLength(0);
    expect(rowOf().querySelector('button')).toBeNull();
  });
});

describe('a new export', () => {
  it('sends the ids of the spaces and custodians picked by name, disabled custodians included', async () => {
    answer = (url, method) => {
      if (url.startsWith('/api/v1/spaces')) return json(200, { items: SPACES, next_cursor: null });
      if (url.startsWith('/api/v1/users')) return json(200, { items: PEOPLE, next_cursor: null });
      if (url.startsWith('/api/v1/exports') && method === 'POST') {
        return json(201, { export_id: 'x1', counts: { messages: 4 }, files: [{ name: 'transcript.txt', bytes: 10, sha256: 'ab' }] });
      }
      return json(200, { items: [] });
    };
    const { el } = mount(<ExportsPage />);
    await searched();
    expect(sent.some((s) => s.url.startsWith('/api/v1/users') && s.url.includes('include_disabled=true'))).toBe(true);
    const gone = row(el, 'People found', 'Gale Way')!;
    expect(gone.textContent).toContain('disabled');
    act(() => box(gone).click());
    act(() => box(row(el, 'Spaces: spaces found', 'ward-9-2019')).click());
    const run = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Run export')!;
    act(() => run.click());
    await searched();
    const posted = sent.find((s) => s.url.startsWith('/api/v1/exports') && s.method === 'POST');
    expect(posted?.body).toEqual({ space_ids: [9], custodian_ids: [5] });
    expect(el.querySelector('.export-done')!.textContent).toContain('4 messages');
    // Each file, and all of them in one archive.
    const links = [...el.querySelectorAll('.export-done a')].map((a) => [a.textContent, a.getAttribute('href')]);
    expect(links).toContainEqual(['transcript.txt', '/api/v1/exports/x1/files/transcript.txt']);
    expect(links).toContainEqual(['All files (.zip)', '/api/v1/exports/x1/archive']);
  });
});
