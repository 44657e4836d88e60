// One space: a community feed (post kinds, comments) or a channel/direct chat (threads), kept
// live from the event stream, with the read marker moved as new messages are seen.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorText, type Message, type Page, type Space, type User } from './api';
import type { EventStream, Frame } from './events';
import type { Listener } from './App';
import Markdown from './Markdown';

interface Props {
  spaceId: number; me: User; title?: string; stream: EventStream | null;
  subscribe: (l: Listener) => () => void; onChanged: () => void;
}

const KINDS = ['discussion', 'question', 'idea', 'poll', 'announcement'] as const;

function upsert(list: Message[], m: Message): Message[] {
  const i = list.findIndex((x) => x.id === m.id);
  if (i < 0) return [...list, m].sort((a, b) => a.seq - b.seq);
  const copy = list.slice();
  copy[i] = { ...copy[i], ...m, reactions: m.reactions ?? copy[i].reactions };
  return copy;
}

// Applies a live event to a list of messages (the feed or a thread).
function applyEvent(list: Message[], frame: Extract<Frame, { type: 'event' }>, meId: number, parent: number | null): Message[] {
  const d = frame.data;
  switch (frame.event) {
    case 'message.created':
      if ((d.parent_id ?? null) === parent) return upsert(list, { ...d, reactions: d.reactions ?? [] });
      if (parent === null && d.parent_id) return list.map((m) => (m.id === d.parent_id ? { ...m, reply_count: m.reply_count + 1 } : m));
      return list;
    case 'message.edited':
    case 'message.pinned':
    case 'answer.accepted':
      return list.map((m) => (m.id === d.id ? { ...m, ...d, my_vote: m.my_vote, my_poll_vote: m.my_poll_vote, reactions: m.reactions } : m));
    case 'message.deleted':
      return list.filter((m) => m.id !== d.id).map((m) => (m.id === d.parent_id ? { ...m, reply_count: Math.max(0, m.reply_count - 1) } : m));
    case 'reaction.changed':
      return list.map((m) => {
        if (m.id !== d.message_id) return m;
        const others = m.reactions.filter((r) => r.emoji !== d.emoji);
        const prev = m.reactions.find((r) => r.emoji === d.emoji);
        const mine = d.user_id === meId ? d.on : prev?.mine ?? false;
        return { ...m, reactions: d.count > 0 ? [...others, { emoji: d.emoji, count: d.count, mine }] : others };
      });
    case 'vote.changed':
      return list.map((m) => (m.id === d.message_id ? { ...m, vote_count: d.vote_count, my_vote: d.user_id === meId ? d.on : m.my_vote } : m));
    case 'poll.changed':
      return list.map((m) => (m.id === d.message_id ? { ...m, poll_options: d.poll_options, my_poll_vote: d.user_id === meId ? d.option : m.my_poll_vote } : m));
    default:
      return list;
  }
}

export default function SpaceView({ spaceId, me, title, stream, subscribe, onChanged }: Props) {
  const [space, setSpace] = useState<Space | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [thread, setThread] = useState<{ root: Message; items: Message[] } | null>(null);
  const [typing, setTyping] = useState<Record<number, number>>({});
  const [error, setError] = useState('');
  const lastRead = useRef(0);
  const bottom = useRef<HTMLDivElement>(null);
  const isCommunity = space?.kind === 'community';

  const markRead = useCallback((seq: number) => {
    if (seq <= lastRead.current) return;
    lastRead.current = seq;
    api('POST', `/api/v1/spaces/${spaceId}/read`, { seq }).catch(() => {});
  }, [spaceId]);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const s = await api<Space>('GET', `/api/v1/spaces/${spaceId}`);
        const page = await api<Page<Message>>('GET', `/api/v1/spaces/${spaceId}/messages?limit=50`);
        if (cancelled) return;
        setSpace(s);
        setMessages(page.items.slice().reverse());
        setOlderCursor(page.next_cursor);
        stream?.track(spaceId, s.last_seq);
        if (s.my_role) markRead(s.last_seq);
      } catch (e) {
        if (!cancelled) setError(errorText(e));
      }
    })();
    return () => { cancelled = true; };
  }, [spaceId, stream, markRead]);

  useEffect(() => subscribe((frame) => {
    if (frame.type === 'typing' && frame.space_id === spaceId) {
      setTyping((t) => ({ ...t, [frame.user_id]: Date.now() }));
      return;
    }
    if (frame.type !== 'event' || frame.space_id !== spaceId) return;
    setMessages((list) => applyEvent(list, frame, me.id, null));
    setThread((t) => (t ? { root: applyEvent([t.root], frame, me.id, t.root.parent_id)[0] ?? t.root, items: applyEvent(t.items, frame, me.id, t.root.id) } : t));
    if (frame.event === 'space.updated') setSpace((s) => (s ? { ...s, ...frame.data } : s));
    if (frame.event === 'message.created' && document.visibilityState === 'visible') markRead(frame.seq);
  }), [subscribe, spaceId, me.id, markRead]);

  useEffect(() => {
    if (!isCommunity) bottom.current?.scrollIntoView({ block: 'end' });
  }, [messages.length, isCommunity]);

  useEffect(() => {
    const timer = window.setInterval(() => setTyping((t) => Object.fromEntries(Object.entries(t).filter(([, at]) => Date.now() - at < 4000))), 1000);
    return () => window.clearInterval(timer);
  }, []);

  const loadOlder = async () => {
    if (!olderCursor) return;
    const page = await api<Page<Message>>('GET', `/api/v1/spaces/${spaceId}/messages?limit=50&before=${olderCursor}`);
    setMessages((list) => [...page.items.slice().reverse(), ...list]);
    setOlderCursor(page.next_cursor);
  };

  const openThread = async (m: Message) => {
    try {
      setThread(await api<{ root: Message; items: Message[] }>('GET', `/api/v1/messages/${m.id}/thread`));
    } catch (e) {
      setError(errorText(e));
    }
  };

  if (error && !space) return <p className="error" role="alert">{error}</p>;
  if (!space) return <p aria-busy="true">Loading…</p>;
  const typers = Object.keys(typing).map(Number).filter((id) => id !== me.id);

  return (
    <div className={`space-view ${thread ? 'with-thread' : ''}`}>
      <section className="space-main" aria-label={title ?? space.name}>
        <header className="space-header">
          <h1>{title ?? space.name}</h1>
          {space.topic && <p className="topic">{space.topic}</p>}
          <SpaceActions space={space} onChanged={() => { onChanged(); api<Space>('GET', `/api/v1/spaces/${spaceId}`).then(setSpace); }} />
        </header>
        {error && <p className="error" role="alert">{error}</p>}
        {isCommunity && space.my_role && space.my_role !== 'read_only' && <Composer spaceId={spaceId} community stream={stream} canAnnounce={space.my_role === 'owner'} />}
        <div className={isCommunity ? 'feed' : 'chat'} aria-live="polite" aria-relevant="additions">
          {olderCursor && <button className="load-older" onClick={loadOlder}>Load older messages</button>}
          {(isCommunity ? messages.slice().reverse() : messages).map((m) => (
            <MessageItem key={m.id} m={m} me={me} space={space} onThread={openThread} onError={setError} />
          ))}
          <div ref={bottom} />
        </div>
        {typers.length > 0 && <p className="typing" aria-live="polite">Someone is typing…</p>}
        {!isCommunity && space.my_role && space.my_role !== 'read_only' && <Composer spaceId={spaceId} stream={stream} />}
        {!space.my_role && <JoinBar space={space} onJoined={onChanged} />}
      </section>
      {thread && (
        <aside className="thread" aria-label="Thread">
          <header><h2>{isCommunity ? 'Comments' : 'Thread'}</h2><button onClick={() => setThread(null)} aria-label="Close thread">✕</button></header>
          <MessageItem m={thread.root} me={me} space={space} onError={setError} isRoot />
          {thread.items.map((m) => <MessageItem key={m.id} m={m} me={me} space={space} onError={setError} question={thread.root} />)}
          {space.my_role && space.my_role !== 'read_only' && <Composer spaceId={spaceId} parentId={thread.root.id} stream={stream} />}
        </aside>
      )}
    </div>
  );
}

function JoinBar({ space, onJoined }: { space: Space; onJoined: () => void }) {
  const [error, setError] = useState('');
  if (space.join_policy !== 'open') return <p className="notice">You can read this space. Ask an owner to invite you to post.</p>;
  return (
    <div className="notice">
      <button onClick={async () => { try { await api('POST', `/api/v1/spaces/${space.id}/join`); onJoined(); location.reload(); } catch (e) { setError(errorText(e)); } }}>Join to post</button>
      {error && <span className="error" role="alert">{error}</span>}
    </div>
  );
}

function SpaceActions({ space, onChanged }: { space: Space; onChanged: () => void }) {
  if (!space.my_role || space.kind === 'direct') return null;
  return (
    <div className="space-actions">
      <span className="meta">{space.member_count} members · {space.visibility}</span>
      {space.my_role !== 'owner' && (
        <button className="link" onClick={async () => { await api('POST', `/api/v1/spaces/${space.id}/leave`); onChanged(); location.hash = '#/'; }}>Leave</button>
      )}
    </div>
  );
}

function Composer({ spaceId, parentId, community, canAnnounce, stream }: {
  spaceId: number; parentId?: number; community?: boolean; canAnnounce?: boolean; stream: EventStream | null;
}) {
  const [body, setBody] = useState('');
  const [title, setTitle] = useState('');
  const [kind, setKind] = useState<string>('discussion');
  const [options, setOptions] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const lastTyping = useRef(0);
  const id = `composer-${spaceId}-${parentId ?? 'top'}`;
  const send = async () => {
    if (busy) return;
    setBusy(true);
    setError('');
    try {
      const draft: Record<string, unknown> = { body, client_id: crypto.randomUUID() };
      if (parentId) draft.parent_id = parentId;
      if (community && !parentId) {
        draft.kind = kind;
        if (title) draft.title = title;
        if (kind === 'poll') draft.poll_options = options.split('\n').map((o) => o.trim()).filter(Boolean);
      }
      await api('POST', `/api/v1/spaces/${spaceId}/messages`, draft);
      setBody(''); setTitle(''); setOptions('');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className={`composer ${community && !parentId ? 'post-composer' : ''}`} onSubmit={(e) => { e.preventDefault(); send(); }}>
      {community && !parentId && (
        <div className="composer-row">
          <label htmlFor={`${id}-kind`}>Post type</label>
          <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value)}>
            {KINDS.filter((k) => k !== 'announcement' || canAnnounce).map((k) => <option key={k} value={k}>{k[0].toUpperCase() + k.slice(1)}</option>)}
          </select>
          <label htmlFor={`${id}-title`}>Title</label>
          <input id={`${id}-title`} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />
        </div>
      )}
      <label htmlFor={id} className="visually-hidden">{parentId ? 'Reply' : 'Message'}</label>
      <textarea id={id} value={body} rows={community && !parentId ? 3 : 1} placeholder={parentId ? 'Reply…' : 'Write a message (Markdown works)…'}
        onChange={(e) => {
          setBody(e.target.value);
          if (Date.now() - lastTyping.current > 3000) { lastTyping.current = Date.now(); stream?.typing(spaceId); }
        }}
        onKeyDown={(e) => { if (e.key === 'Enter' && !e.shiftKey && !(community && !parentId)) { e.preventDefault(); send(); } }} />
      {community && !parentId && kind === 'poll' && (
        <>
          <label htmlFor={`${id}-options`}>Poll options (one per line)</label>
          <textarea id={`${id}-options`} value={options} rows={3} onChange={(e) => setOptions(e.target.value)} />
        </>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <button type="submit" disabled={busy}>{parentId ? 'Reply' : community ? 'Post' : 'Send'}</button>
    </form>
  );
}

function MessageItem({ m, me, space, onThread, onError, isRoot, question }: {
  m: Message; me: User; space: Space; onThread?: (m: Message) => void; onError: (s: string) => void;
  isRoot?: boolean; question?: Message;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(m.body);
  const [history, setHistory] = useState<{ version: number; body: string }[] | null>(null);
  const mod = space.my_role === 'moderator' || space.my_role === 'owner';
  const mine = m.author_id === me.id;
  const act = async (method: string, path: string, body?: unknown) => {
    try { await api(method, path, body); } catch (e) { onError(errorText(e)); }
  };
  const totalVotes = m.poll_options.reduce((n, o) => n + o.votes, 0);
  return (
    <article className={`message kind-${m.kind} ${m.pinned ? 'pinned' : ''}`} data-message-id={m.id} aria-label={`${m.author.display_name}: ${m.title || m.body.slice(0, 60)}`}>
      <header>
        <strong className="author">{m.author.display_name}</strong>
        {m.kind !== 'message' && <span className={`kind-tag tag-${m.kind}`}>{m.kind}</span>}
        <time dateTime={new Date(m.created_at).toISOString()}>{new Date(m.created_at).toLocaleString()}</time>
        {m.edited_at > 0 && <button className="link edited" onClick={async () => setHistory((await api<{ items: { version: number; body: string }[] }>('GET', `/api/v1/messages/${m.id}/history`)).items)} disabled={!mine && !mod}>(edited)</button>}
        {m.pinned && <span className="pin" aria-label="Pinned">📌</span>}
        {question && question.accepted_answer_id === m.id && <span className="accepted">✔ Accepted answer</span>}
      </header>
      {m.title && <h3>{m.title}</h3>}
      {editing ? (
        <form onSubmit={async (e) => { e.preventDefault(); await act('PATCH', `/api/v1/messages/${m.id}`, { body: draft }); setEditing(false); }}>
          <label htmlFor={`edit-${m.id}`} className="visually-hidden">Edit message</label>
          <textarea id={`edit-${m.id}`} value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={(e) => { if (e.key === 'Escape') setEditing(false); }} />
          <button type="submit">Save</button> <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      ) : <Markdown text={m.body} />}
      {history && (
        <details open className="history"><summary>Edit history</summary>
          <ol>{history.map((h) => <li key={h.version}>{h.body}</li>)}</ol>
        </details>
      )}
      {m.kind === 'poll' && (
        <fieldset className="poll"><legend>Vote</legend>
          {m.poll_options.map((o) => (
            <label key={o.index} className="poll-option">
              <input type="radio" name={`poll-${m.id}`} checked={m.my_poll_vote === o.index} onChange={() => act('POST', `/api/v1/messages/${m.id}/poll-vote`, { option: o.index })} />
              {o.text} <span className="votes">{o.votes} {o.votes === 1 ? 'vote' : 'votes'}</span>
              <span className="bar" style={{ width: `${totalVotes ? (o.votes / totalVotes) * 100 : 0}%` }} />
            </label>
          ))}
        </fieldset>
      )}
      <footer className="actions">
        {m.reactions.map((r) => (
          <button key={r.emoji} className={`reaction ${r.mine ? 'mine' : ''}`} aria-pressed={r.mine}
            onClick={() => act(r.mine ? 'DELETE' : 'PUT', `/api/v1/messages/${m.id}/reactions/${encodeURIComponent(r.emoji)}`)}>
            {r.emoji} {r.count}
          </button>
        ))}
        {!m.reactions.some((r) => r.emoji === '👍') && <button className="reaction add" aria-label="React with thumbs up" onClick={() => act('PUT', `/api/v1/messages/${m.id}/reactions/${encodeURIComponent('👍')}`)}>👍+</button>}
        {m.kind === 'idea' && (
          <button className={`vote ${m.my_vote ? 'mine' : ''}`} aria-pressed={m.my_vote} onClick={() => act(m.my_vote ? 'DELETE' : 'PUT', `/api/v1/messages/${m.id}/vote`)}>
            ▲ {m.vote_count} {m.my_vote ? 'Voted' : 'Vote'}
          </button>
        )}
        {!isRoot && !m.parent_id && onThread && (
          <button className="link" onClick={() => onThread(m)}>{m.reply_count} {space.kind === 'community' ? (m.reply_count === 1 ? 'comment' : 'comments') : (m.reply_count === 1 ? 'reply' : 'replies')}</button>
        )}
        {question && question.kind === 'question' && (question.author_id === me.id || mod) && question.accepted_answer_id !== m.id && (
          <button className="link" onClick={() => act('POST', `/api/v1/messages/${m.id}/accept`)}>Accept answer</button>
        )}
        {mod && !m.parent_id && <button className="link" onClick={() => act(m.pinned ? 'DELETE' : 'PUT', `/api/v1/messages/${m.id}/pin`)}>{m.pinned ? 'Unpin' : 'Pin'}</button>}
        {mine && !editing && <button className="link" onClick={() => { setDraft(m.body); setEditing(true); }}>Edit</button>}
        {(mine || mod) && <button className="link danger" onClick={() => { if (confirm('Delete this message?')) act('DELETE', `/api/v1/messages/${m.id}`); }}>Delete</button>}
      </footer>
    </article>
  );
}
