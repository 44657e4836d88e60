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

/**
 * A fresh id for idempotent posting: a retried send with the same id returns the original.
 *
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids sort by the time they
 * were made, so the server's index of client ids takes each new one at its end, where a commit's
 * other posts are, instead of on a page of its own (any other form of id works, and costs more).
 */
export function newClientId(now: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  if (typeof crypto !== 'undefined' && 'getRandomValues' in crypto) crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  let ms = Math.max(0, Math.floor(now));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70; // version 7
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // the RFC's variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
