// Pure functions that keep a list of messages (a chat timeline, a feed, or one thread's replies)
// in step with live events. Every event carries absolute state (a whole message, a count), so
// applying one whose effect a page load already showed is harmless.
import type { Message } from '../api';
import type { SpaceEvent } from '../events';

/** Inserts or replaces by id, keeping the list ordered by seq ascending. */
export function upsert(list: Message[], m: Message): Message[] {
  const i = list.findIndex((x) => x.id === m.id);
  if (i >= 0) {
    const copy = list.slice();
    copy[i] = m;
    return copy;
  }
  const copy = [...list, m];
  if (list.length > 0 && m.seq < list[list.length - 1]!.seq) copy.sort((a, b) => a.seq - b.seq);
  return copy;
}

/** Adds a page of messages (any order) to a list ordered by seq, skipping ones already there. */
export function mergePage(list: Message[], page: Message[]): Message[] {
  const known = new Set(list.map((m) => m.id));
  const fresh = page.filter((m) => !known.has(m.id) && !m.deleted);
  if (fresh.length === 0) return list;
  return [...list, ...fresh].sort((a, b) => a.seq - b.seq);
}

// A message event's payload is the message as its actor sees it: keep this viewer's own
// reactions, vote and poll choice from what we already had.
function keepViewerState(next: Message, prev: Message): Message {
  return {
    ...next,
    my_vote: prev.my_vote,
    my_poll_vote: prev.my_poll_vote,
    reactions: next.reactions.map((r) => ({ ...r, mine: prev.reactions.find((p) => p.emoji === r.emoji)?.mine ?? false })),
  };
}

/**
 * Applies one space event to `list`, which holds the messages whose parent is `parentId`
 * (null: top-level messages). Replies to a message in the list bump its reply count.
 */
export function applyEvent(list: Message[], ev: SpaceEvent, meId: number, parentId: number | null): Message[] {
  switch (ev.event) {
    case 'message.created':
    case 'message.published': {
      const m = ev.data;
      if ((m.parent_id ?? null) === parentId) return upsert(list, m);
      if (m.parent_id !== null && list.some((x) => x.id === m.parent_id)) {
        return list.map((x) => (x.id === m.parent_id ? { ...x, reply_count: x.reply_count + 1 } : x));
      }
      return list;
    }
    case 'message.held': {
      // Only its author and the moderators see a held message; it counts as a reply once published.
      const m = ev.data;
      return (m.parent_id ?? null) === parentId ? upsert(list, m) : list;
    }
    case 'message.hidden':
    case 'message.removed': {
      const id = ev.data.id;
      return list.some((x) => x.id === id) ? list.filter((x) => x.id !== id) : list;
    }
    case 'message.edited':
    case 'message.pinned':
    case 'answer.accepted':
      return list.map((x) => (x.id === ev.data.id ? keepViewerState(ev.data, x) : x));
    case 'message.deleted': {
      const d = ev.data;
      if (!list.some((x) => x.id === d.id || x.id === d.parent_id)) return list;
      return list
        .filter((x) => x.id !== d.id)
        .map((x) => (x.id === d.parent_id ? { ...x, reply_count: Math.max(0, x.reply_count - 1) } : x));
    }
    case 'reaction.changed': {
      const d = ev.data;
      return list.map((x) => {
        if (x.id !== d.message_id) return x;
        const prev = x.reactions.find((r) => r.emoji === d.emoji);
        const mine = d.user_id === meId ? d.on : prev?.mine ?? false;
        const reactions = prev
          ? x.reactions.map((r) => (r.emoji === d.emoji ? { ...r, count: d.count, mine } : r)).filter((r) => r.count > 0)
          : d.count > 0 ? [...x.reactions, { emoji: d.emoji, count: d.count, mine }] : x.reactions;
        return { ...x, reactions };
      });
    }
    case 'vote.changed': {
      const d = ev.data;
      return list.map((x) => (x.id === d.message_id ? { ...x, vote_count: d.vote_count, my_vote: d.user_id === meId ? d.on : x.my_vote } : x));
    }
    case 'poll.changed': {
      const d = ev.data;
      return list.map((x) => (x.id === d.message_id
        ? { ...x, poll_options: d.poll_options, my_poll_vote: d.user_id === meId ? d.option : x.my_poll_vote }
        : x));
    }
    default:
      return list;
  }
}

/** Applies an event to a single message (a thread's root, a pinned post), or returns it unchanged. */
export function applyToOne(m: Message, ev: SpaceEvent, meId: number): Message {
  if ((ev.event === 'message.created' || ev.event === 'message.published' || ev.event === 'message.held') && ev.data.parent_id !== m.id) {
    // The message itself went live (or was held): take the new state.
    return ev.event !== 'message.created' && ev.data.id === m.id ? keepViewerState(ev.data, m) : m;
  }
  return applyEvent([m], ev, meId, -1)[0] ?? m;
}

export function isRemoval(ev: SpaceEvent, id: number): boolean {
  return (ev.event === 'message.deleted' || ev.event === 'message.hidden' || ev.event === 'message.removed') && ev.data.id === id;
}

/** A fresh id for idempotent posting: a retried send with the same id returns the original. */
export function newClientId(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
