import { describe, expect, it } from 'vitest';
import type { Message } from '../api';
import type { SpaceEvent } from '../events';
import { applyEvent, applyToOne, mergePage, newClientId, upsert } from '../lib/messages';

const ME = 1;
function msg(id: number, seq: number, extra: Partial<Message> = {}): Message {
  return {
    id, seq, space_id: 7, author_id: 2, author: { id: 2, username: 'bo', display_name: 'Bo' }, kind: 'message', parent_id: null,
    title: '', body: `m${id}`, client_id: '', created_at: seq * 1000, edited_at: 0, deleted: false, pinned: false,
    accepted_answer_id: null, reply_count: 0, vote_count: 0, my_vote: false, poll_options: [], my_poll_vote: null,
    reactions: [], mentions: [], ...extra,
  };
}
const ev = (event: SpaceEvent['event'], seq: number, data: unknown) =>
  ({ type: 'event', space_id: 7, seq, event, data }) as unknown as SpaceEvent;

describe('message lists', () => {
  it('upsert keeps seq order and replaces by id', () => {
    const list = [msg(1, 1), msg(3, 3)];
    expect(upsert(list, msg(2, 2)).map((m) => m.id)).toEqual([1, 2, 3]);
    expect(upsert(list, { ...msg(3, 3), body: 'new' })[1]!.body).toBe('new');
  });

  it('mergePage adds only unseen, undeleted messages', () => {
    const list = [msg(5, 5)];
    const merged = mergePage(list, [msg(5, 5), msg(4, 4), msg(3, 3, { deleted: true })]);
    expect(merged.map((m) => m.id)).toEqual([4, 5]);
    expect(mergePage(list, [msg(5, 5)])).toBe(list);
  });

  it('a created message lands in its list once, a reply bumps its root', () => {
    let list = [msg(1, 1)];
    list = applyEvent(list, ev('message.created', 2, msg(2, 2)), ME, null);
    list = applyEvent(list, ev('message.created', 2, msg(2, 2)), ME, null);
    expect(list.map((m) => m.id)).toEqual([1, 2]);
    list = applyEvent(list, ev('message.created', 3, msg(9, 3, { parent_id: 1 })), ME, null);
    expect(list.map((m) => m.id)).toEqual([1, 2]);
    expect(list[0]!.reply_count).toBe(1);
    list = applyEvent(list, ev('message.deleted', 4, { id: 9, space_id: 7, parent_id: 1 }), ME, null);
    expect(list[0]!.reply_count).toBe(0);
    list = applyEvent(list, ev('message.deleted', 5, { id: 2, space_id: 7, parent_id: null }), ME, null);
    expect(list.map((m) => m.id)).toEqual([1]);
  });

  it('an edit by someone else keeps my own reactions and votes', () => {
    const mine = msg(1, 1, { my_vote: true, my_poll_vote: 0, reactions: [{ emoji: '👍', count: 2, mine: true }] });
    const theirView = msg(1, 1, { body: 'edited', edited_at: 5, my_vote: false, my_poll_vote: null, reactions: [{ emoji: '👍', count: 2, mine: false }] });
    const [next] = applyEvent([mine], ev('message.edited', 2, theirView), ME, null);
    expect(next!.body).toBe('edited');
    expect(next!.my_vote).toBe(true);
    expect(next!.my_poll_vote).toBe(0);
    expect(next!.reactions[0]!.mine).toBe(true);
  });

  it('reaction counts are absolute; mine follows only my own change', () => {
    let list = [msg(1, 1)];
    list = applyEvent(list, ev('reaction.changed', 2, { message_id: 1, emoji: '👍', count: 1, user_id: 2, on: true }), ME, null);
    expect(list[0]!.reactions).toEqual([{ emoji: '👍', count: 1, mine: false }]);
    list = applyEvent(list, ev('reaction.changed', 3, { message_id: 1, emoji: '👍', count: 2, user_id: ME, on: true }), ME, null);
    expect(list[0]!.reactions).toEqual([{ emoji: '👍', count: 2, mine: true }]);
    list = applyEvent(list, ev('reaction.changed', 4, { message_id: 1, emoji: '👍', count: 1, user_id: ME, on: false }), ME, null);
    expect(list[0]!.reactions).toEqual([{ emoji: '👍', count: 1, mine: false }]);
    list = applyEvent(list, ev('reaction.changed', 5, { message_id: 1, emoji: '👍', count: 0, user_id: 2, on: false }), ME, null);
    expect(list[0]!.reactions).toEqual([]);
  });

  it('votes and polls', () => {
    let list = [msg(1, 1, { kind: 'idea' }), msg(2, 2, { kind: 'poll', poll_options: [{ index: 0, text: 'a', votes: 0 }, { index: 1, text: 'b', votes: 0 }] })];
    list = applyEvent(list, ev('vote.changed', 3, { message_id: 1, vote_count: 4, user_id: 2, on: true }), ME, null);
    expect([list[0]!.vote_count, list[0]!.my_vote]).toEqual([4, false]);
    list = applyEvent(list, ev('poll.changed', 4, { message_id: 2, user_id: ME, option: 1, poll_options: [{ index: 0, text: 'a', votes: 0 }, { index: 1, text: 'b', votes: 1 }] }), ME, null);
    expect(list[1]!.my_poll_vote).toBe(1);
    expect(list[1]!.poll_options[1]!.votes).toBe(1);
  });

  it('a thread root follows accepted answers and reply counts', () => {
    const root = msg(1, 1, { kind: 'question' });
    const accepted = applyToOne(root, ev('answer.accepted', 3, { ...root, accepted_answer_id: 5 }), ME);
    expect(accepted.accepted_answer_id).toBe(5);
    expect(applyToOne(accepted, ev('message.created', 4, msg(6, 4, { parent_id: 1 })), ME).reply_count).toBe(1);
    expect(applyToOne(accepted, ev('message.created', 5, msg(7, 5)), ME)).toBe(accepted);
  });
});

describe('held messages in lists', () => {
  it('a held message shows, goes live in place when published, and leaves when hidden or removed', () => {
    let list = applyEvent([msg(1, 1)], ev('message.held', 2, msg(2, 2, { state: 'held', hold_reason: 'pre_moderation' })), 1, null);
    expect(list.map((m) => [m.id, m.state])).toEqual([[1, undefined], [2, 'held']]);
    list = applyEvent(list, ev('message.published', 3, msg(2, 2, { state: 'published' })), 1, null);
    expect(list.map((m) => [m.id, m.state])).toEqual([[1, undefined], [2, 'published']]);
    expect(applyEvent(list, ev('message.hidden', 4, { id: 2, space_id: 7 }), 1, null).map((m) => m.id)).toEqual([1]);
    expect(applyEvent(list, ev('message.removed', 4, { id: 1, space_id: 7 }), 1, null).map((m) => m.id)).toEqual([2]);
  });

  it('a reply counts on its parent only once it is published', () => {
    const root = msg(1, 1);
    const reply = msg(5, 2, { parent_id: 1, state: 'held' });
    expect(applyEvent([root], ev('message.held', 2, reply), 1, null)[0]!.reply_count).toBe(0);
    expect(applyEvent([root], ev('message.published', 3, { ...reply, state: 'published' }), 1, null)[0]!.reply_count).toBe(1);
    expect(applyToOne(root, ev('message.published', 3, { ...reply, state: 'published' }), 1).reply_count).toBe(1);
    const heldRoot = { ...root, state: 'held' as const };
    expect(applyToOne(heldRoot, ev('message.published', 4, { ...root, state: 'published' }), 1).state).toBe('published');
  });
});

describe('client ids', () => {
  it('are UUIDv7s that carry the time they were made', () => {
    const at = Date.UTC(2026, 11, 2, 1, 30, 0, 123);
    const id = newClientId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sort in the order they were made, and never repeat', () => {
    const start = Date.UTC(2026, 11, 2);
    const ids = Array.from({ length: 200 }, (_, i) => newClientId(start + Math.floor(i / 4)));
    const sorted = [...ids].sort();
    expect(sorted.map((id) => id.slice(0, 13))).toEqual(ids.map((id) => id.slice(0, 13)));
    expect(new Set(ids).size).toBe(ids.length);
    expect(newClientId().length).toBeLessThanOrEqual(64); // the server's limit
  });
});
