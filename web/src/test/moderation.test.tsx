// @vitest-environment jsdom
// The review queue is live: when the server says a queue the page shows changed (the
// `moderation.queue` user event), the page reads it again, messages for a report, a held post or a
// decision and appeals for an appeal or a decision on one; news of queues it does not show is let be.
import { type ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken, type Message, type User } from '../api';
import type { Frame, QueueChange } from '../events';
import type { ModerationAction, QueueItem } from '../governanceApi';
import ModerationQueue from '../pages/compliance/ModerationQueue';
import MyModeration from '../components/MyModeration';
import { moderationText } from '../lib/moderation';
import { AppContext, type AppContextValue, type Listener } from '../state';
import { act } from 'react';
import { button, byLabel, polyfillDialogs, settle, submit, type } from './dom';
import { mount } from './mount';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const OFFICER: User = {
  id: 9, username: 'cora', display_name: 'Cora Privacy', email: 'cora@example.org', job_role: 'Compliance Officer', department_ids: [],
  kind: 'staff', is_admin: false, is_compliance: true, disabled: false, created_at: 0,
};
const MODERATOR: User = { ...OFFICER, id: 4, username: 'mo', display_name: 'Mo Moderator', is_compliance: false };
const space = (id: number, name: string) => ({
  id, kind: 'community', name, topic: '', visibility: 'public', join_policy: 'open', archived: false, created_by: 1, created_at: 0,
  last_seq: 0, member_count: 3, my_role: 'moderator', read_seq: 0, unread_count: 0, unread_mentions: 0,
  template: { key: 'patient-forum', version: 1, name: 'Patient forum', phi: 'block', moderation: 'pre-moderation', audience: 'patients' },
});
const message = (id: number, spaceId: number, body: string): Message => ({
  id, space_id: spaceId, seq: id, author_id: 3, author: { id: 3, username: 'ana', display_name: 'Ana Lima' }, kind: 'discussion',
  parent_id: null, title: '', body, client_id: '', created_at: 1_700_000_000_000, edited_at: 0, deleted: false, pinned: false,
  accepted_answer_id: null, reply_count: 0, vote_count: 0, my_vote: false, poll_options: [], my_poll_vote: null, reactions: [],
  mentions: [], state: 'published',
});
const reported = (id: number, spaceId: number, body: string): QueueItem => ({
  message: message(id, spaceId, body), space: { id: spaceId, name: `space ${spaceId}` },
  reports: [{ id: 1, reporter_id: 5, reason: 'selling things', created_at: 1_700_000_000_000 }], hold_reason: '',
});
const appeal = (id: number, spaceId: number): ModerationAction => ({
  id, space_id: spaceId, message_id: 41, target_user_id: 3, moderator_id: 4, action: 'hide', reason: 'off topic', created_at: 0,
  appeal: { text: 'It was on topic', appealed_at: 1, outcome: null, reason: '', decided_at: 0 },
});

// What the server holds: the page reads it only when it asks. The queue is oldest first, of one
// space when asked for one.
let queue: QueueItem[] = [];
let appeals: ModerationAction[] = [];
const asked: string[] = [];
const queueReads = () => asked.filter((u) => u.startsWith('/api/v1/moderation/queue')).length;
const appealReads = () => asked.filter((u) => u.startsWith('/api/v1/moderation/actions')).length;

const listeners = new Set<Listener>();
const send = (change: QueueChange) =>
  act(() => { for (const l of listeners) l({ type: 'user', event: 'moderation.queue', data: change } as Frame); });
// Past the page's pause that gathers a burst of changes into one read.
const gathered = () => settle(350);

function withApp(node: ReactNode, me: User, spaces = [space(7, 'Knee recovery'), space(8, 'Carers')]) {
  const ctx = {
    me, setMe: () => {}, spaces, spacesLoaded: true, reloadSpaces: async () => {}, addSpace: () => {}, online: new Set<number>(),
    status: 'live', stream: { seed: () => {}, forget: () => {}, typing: () => {} },
    subscribe: (l: Listener) => { listeners.add(l); return () => listeners.delete(l); },
    announce: () => {}, toast: () => {}, markSeen: () => {}, openCreateSpace: () => {}, openNewDirect: () => {},
  } as unknown as AppContextValue;
  return <AppContext.Provider value={ctx}>{node}</AppContext.Provider>;
}

beforeEach(() => {
  queue = [];
  appeals = [];
  asked.length = 0;
  listeners.clear();
  setCsrfToken('token');
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    asked.push(url);
    if (url.startsWith('/api/v1/moderation/queue')) {
      const params = new URL(url, 'http://rounds.test').searchParams;
      const space = params.get('space_id');
      const shown = queue.filter((x) => space === null || x.message.space_id === Number(space));
      return json(200, { items: shown.slice(0, Number(params.get('limit') ?? shown.length)), next_cursor: null });
    }
    if (url.startsWith('/api/v1/moderation/actions')) {
      const space = new URL(url, 'http://rounds.test').searchParams.get('space_id');
      return json(200, { items: appeals.filter((a) => space === null || a.space_id === Number(space)) });
    }
    if (url.startsWith('/api/v1/me/moderation')) return json(200, { items: appeals });
    const moderated = /^\/api\/v1\/messages\/(\d+)\/moderate$/.exec(url);
    if (moderated && init?.body) {
      const body = JSON.parse(String(init.body)) as { action: ModerationAction['action']; reason: string };
      return json(200, { ...appeal(30, 7), message_id: Number(moderated[1]), action: body.action, reason: body.reason, appeal: null });
    }
    return json(404, {});
  }));
});
afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

const offered = (el: HTMLElement) => [button(el, 'Uphold'), button(el, 'Reverse')].filter(Boolean).length;
const items = (el: HTMLElement) => [...el.querySelectorAll('.queue-item')].map((li) => li.getAttribute('data-message-id'));

describe('the review queue', () => {
  it('shows an officer a report in any space as soon as the server says the queue changed', async () => {
    const { el } = mount(withApp(<ModerationQueue />, OFFICER));
    await settle();
    expect(el.textContent).toContain('Nothing is waiting for review.');
    expect(asked).toContain('/api/v1/moderation/queue');  // every space

    // Nothing is read again until the server says so.
    queue = [reported(41, 8, 'buy my bike')];
    await gathered();
    expect(items(el)).toEqual([]);

    send({ kind: 'report', space_id: 8, message_id: 41 });
    await gathered();
    expect(items(el)).toEqual(['41']);
    expect(el.querySelector('.queue-item')!.textContent).toContain('buy my bike');

    // A decision taken elsewhere takes it off.
    queue = [];
    send({ kind: 'decided', space_id: 8, message_id: 41 });
    await gathered();
    expect(items(el)).toEqual([]);
  });

  it('reads once for a burst of changes', async () => {
    mount(withApp(<ModerationQueue />, OFFICER));
    await settle();
    const before = queueReads();
    send({ kind: 'held', space_id: 7, message_id: 50 });
    send({ kind: 'held', space_id: 8, message_id: 51 });
    send({ kind: 'report', space_id: 7, message_id: 52 });
    await gathered();
    expect(queueReads()).toBe(before + 1);
  });

  it('reads the appeals again for an appeal, and not the messages', async () => {
    const { el } = mount(withApp(<ModerationQueue />, OFFICER));
    await settle();
    expect(el.textContent).toContain('No appeals are waiting.');
    const [messagesBefore, appealsBefore] = [queueReads(), appealReads()];
    appeals = [appeal(12, 7)];
    send({ kind: 'appeal', space_id: 7, action_id: 12 });
    await gathered();
    expect(appealReads()).toBe(appealsBefore + 1);
    expect(queueReads()).toBe(messagesBefore);
    expect(el.textContent).toContain('It was on topic');

    // Decided by someone else: gone from the list.
    appeals = [];
    send({ kind: 'decided', space_id: 7, action_id: 12 });
    await gathered();
    expect(el.textContent).toContain('No appeals are waiting.');
  });

  it('opens a moderator on a space they moderate where a message waits, not on their first', async () => {
    queue = [reported(41, 8, 'buy my bike')];
    const { el } = mount(withApp(<ModerationQueue />, MODERATOR));
    await settle();
    expect(items(el)).toEqual(['41']);
    expect(asked).toContain('/api/v1/moderation/queue?space_id=8');
    expect(asked).not.toContain('/api/v1/moderation/queue?space_id=7');
    expect(el.querySelector('select')!.value).toBe('8');

    // Their own choice stands.
    act(() => {
      const select = el.querySelector('select')!;
      select.value = '7';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await settle();
    expect(asked).toContain('/api/v1/moderation/queue?space_id=7');
    expect(items(el)).toEqual([]);
  });

  it('opens a moderator on the space of an appeal they may decide when no message waits', async () => {
    appeals = [appeal(12, 7), { ...appeal(13, 8), moderator_id: 5 }];  // the first decided by MODERATOR
    const { el } = mount(withApp(<ModerationQueue />, MODERATOR));
    await settle();
    expect(el.querySelector('select')!.value).toBe('8');
    expect(asked).toContain('/api/v1/moderation/actions?pending_appeals=true');
    expect(el.textContent).toContain('It was on topic');
    expect(offered(el)).toBe(2);
  });

  it('opens a moderator on their first space when nothing waits anywhere', async () => {
    const { el } = mount(withApp(<ModerationQueue />, MODERATOR));
    await settle();
    expect(el.querySelector('select')!.value).toBe('7');
    expect(el.textContent).toContain('Nothing is waiting for review.');
  });

  it('lets a moderator\'s view of one space be when another space\'s queue changes', async () => {
    mount(withApp(<ModerationQueue />, MODERATOR));
    await settle();
    expect(asked).toContain('/api/v1/moderation/queue?space_id=7');
    const [messagesBefore, appealsBefore] = [queueReads(), appealReads()];
    send({ kind: 'report', space_id: 8, message_id: 60 });
    send({ kind: 'appeal', space_id: 8, action_id: 13 });
    await gathered();
    expect([queueReads(), appealReads()]).toEqual([messagesBefore, appealsBefore]);

    send({ kind: 'held', space_id: 7, message_id: 61 });
    await gathered();
    expect(queueReads()).toBe(messagesBefore + 1);
  });
});

describe('appeals', () => {

  it('are not offered for a decision to the moderator who made it', async () => {
    appeals = [appeal(12, 7)];  // decided by MODERATOR
    const { el } = mount(withApp(<ModerationQueue />, MODERATOR));
    await settle();
    expect(el.textContent).toContain('It was on topic');
    expect(offered(el)).toBe(0);
    expect(el.textContent).toContain('You made this decision: another moderator or a compliance officer decides the appeal.');
  });

  it('are not offered to the author who appealed, whatever their role', async () => {
    appeals = [{ ...appeal(12, 7), moderator_id: 5, target_user_id: MODERATOR.id }];
    const { el } = mount(withApp(<ModerationQueue />, MODERATOR));
    await settle();
    expect(offered(el)).toBe(0);
    expect(el.textContent).toContain('This is your appeal');
  });

  it('are offered to another moderator and to a compliance officer', async () => {
    appeals = [{ ...appeal(12, 7), moderator_id: 5 }];
    const { el } = mount(withApp(<ModerationQueue />, MODERATOR));
    await settle();
    expect(offered(el)).toBe(2);

    appeals = [appeal(12, 7)];
    const officer = mount(withApp(<ModerationQueue />, OFFICER));
    await settle();
    expect(offered(officer.el)).toBe(2);
  });
});

describe('decisions on held posts', () => {
  it('keep a held post in the queue when the decision was about its author', async () => {
    polyfillDialogs();
    queue = [{ ...reported(60, 7, 'waiting words'), reports: [], hold_reason: 'pre_moderation', message: { ...message(60, 7, 'waiting words'), state: 'held' } }];
    const { el } = mount(withApp(<ModerationQueue />, OFFICER));
    await settle();
    expect(items(el)).toEqual(['60']);
    act(() => [...el.querySelectorAll('button')].find((b) => b.textContent === 'Other decision…')!.click());
    const dialog = document.querySelector('dialog') as HTMLElement;
    act(() => (dialog.querySelector('input[value="warn"]') as HTMLInputElement).click());
    type(byLabel(dialog, 'Reason'), 'mind the tone');
    await submit(dialog);
    await settle();
    expect(asked.some((u) => u === '/api/v1/messages/60/moderate')).toBe(true);
    expect(items(el)).toEqual(['60']);  // the server still holds it, and the page says so
    expect(el.textContent).toContain('The post still waits for review.');
  });
});

describe('what an author is told', () => {
  it('tells the outcome of an appeal, not the first decision again', () => {
    const decided = (outcome: 'upheld' | 'reversed') => ({
      action: 'hide' as const, reason: 'off topic',
      appeal: { text: 'it was on topic', appealed_at: 1, outcome, reason: 'read again', decided_at: 2 },
    });
    expect(moderationText(decided('reversed'))).toBe('Your appeal was granted: the decision (hidden) is reversed. Reason: read again');
    expect(moderationText(decided('upheld'))).toBe('Your appeal was turned down: the decision (hidden) stands. Reason: read again');
    expect(moderationText({ action: 'hide', reason: 'off topic', appeal: null })).toBe('A moderator hid your post. Reason: off topic');
  });

  it('shows a decision on an appeal as it is made', async () => {
    appeals = [appeal(12, 7)];
    const { el } = mount(withApp(<MyModeration />, MODERATOR));
    await settle();
    expect(el.textContent).toContain('waiting for a decision');
    const answered = { ...appeal(12, 7), appeal: { text: 'It was on topic', appealed_at: 1, outcome: 'reversed' as const, reason: 'fair point', decided_at: 2 } };
    act(() => { for (const l of listeners) l({ type: 'user', event: 'moderation.action', data: answered } as Frame); });
    expect(el.textContent).not.toContain('waiting for a decision');
    expect(el.textContent).toContain('reversed: fair point');
  });
});
