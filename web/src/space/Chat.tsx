// A channel or direct conversation: messages oldest to newest, more loading as you scroll up
// (the view stays where it was), a "New" line at the first unread message, and a jump button
// when messages arrive while you read further up.
import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Api, errorText, type Message, type Space } from '../api';
import { dayLabel, memberIdIn, plural, sameDay } from '../lib/format';
import { useApp } from '../state';
import MessageItem from './MessageItem';
import { useTimeline } from './useTimeline';
import { ChatComposer } from './Composer';

const GROUP_WITHIN_MS = 5 * 60_000;

export default function Chat({ space, title, focusMessage, onOpenThread, canWrite, footer }: {
  space: Space; title: string; focusMessage?: number; onOpenThread: (root: Message, highlight?: number) => void;
  canWrite: boolean; footer?: ReactNode;
}) {
  const { me, online } = useApp();
  const scroller = useRef<HTMLDivElement>(null);
  const topSentinel = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const stick = useRef(false);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const [ready, setReady] = useState(false);
  const [newBelow, setNewBelow] = useState(0);
  const [highlight, setHighlight] = useState<number | undefined>(undefined);
  const [actionError, setActionError] = useState('');
  const [unreadFrom] = useState(space.read_seq);

  const { messages, loaded, olderCursor, loadingOlder, error, loadOlder, reveal, add } = useTimeline(space, (ev) => {
    if ((ev.event === 'message.created' || ev.event === 'message.published') && ev.data.parent_id === null) {
      if (ev.data.author_id === memberIdIn(space, me.id) || atBottom.current) stick.current = true;
      else setNewBelow((n) => n + 1);
    }
  });

  const scrollToBottom = () => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  // After each change: keep the reading position when older messages were added above, or stay
  // at the bottom when the reader was there.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (anchor.current) {
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (stick.current) {
      scrollToBottom();
      stick.current = false;
    }
  }, [messages]);

  // First render of the loaded page: the "New" line in view, or the newest message.
  useLayoutEffect(() => {
    if (!loaded || ready) return;
    const divider = scroller.current?.querySelector<HTMLElement>('.unread-divider');
    if (divider && !focusMessage) divider.scrollIntoView({ block: 'start' });
    else scrollToBottom();
    setReady(true);
  }, [loaded, ready, focusMessage]);

  const older = useCallback(() => loadOlder(() => {
    const el = scroller.current;
    if (el) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
  }), [loadOlder]);

  // Scrolling near the top loads the page before.
  useEffect(() => {
    const el = scroller.current;
    const sentinel = topSentinel.current;
    if (!ready || !el || !sentinel || !olderCursor || loadingOlder) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void older();
    }, { root: el, rootMargin: '300px 0px 0px 0px' });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [ready, olderCursor, loadingOlder, older]);

  // A link to one message (from search or mentions): load back to it, or open its thread.
  useEffect(() => {
    if (!focusMessage || !ready) return;
    let cancelled = false;
    (async () => {
      try {
        const target = await Api.message(focusMessage);
        if (cancelled) return;
        if (target.parent_id !== null) {
          onOpenThread(await Api.message(target.parent_id), target.id);
          return;
        }
        if (await reveal(target.id, target.seq)) {
          if (cancelled) return;
          setHighlight(target.id);
          window.setTimeout(() => {
            const node = scroller.current?.querySelector<HTMLElement>(`[data-message-id="${target.id}"]`);
            node?.scrollIntoView({ block: 'center' });
            // Focus follows the link only while nobody has put it elsewhere: someone who has
            // already started typing a new search keeps their place.
            const active = document.activeElement;
            const unclaimed = !active || active === document.body || scroller.current?.contains(active);
            if (unclaimed) node?.focus({ preventScroll: true });
          }, 30);
        }
      } catch (e) {
        if (!cancelled) setActionError(`That message is no longer available. ${errorText(e)}`);
      }
    })();
    return () => { cancelled = true; };
  }, [focusMessage, ready, reveal, onOpenThread]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (atBottom.current && newBelow) setNewBelow(0);
  };

  const onError = useCallback((t: string) => setActionError(t), []);
  const firstUnread = messages.find((m) => m.seq > unreadFrom && m.author_id !== memberIdIn(space, me.id));

  return (
    <div className="chat">
      <div className="timeline" ref={scroller} onScroll={onScroll} tabIndex={0} role="region" aria-label={`Messages in ${title}`} aria-busy={!loaded}>
        <div ref={topSentinel} className="sentinel" />
        {olderCursor
          ? <button type="button" className="load-older" onClick={() => void older()} disabled={loadingOlder}>{loadingOlder ? 'Loading older messages…' : 'Load older messages'}</button>
          : loaded && <p className="timeline-start">This is the beginning of {title}.</p>}
        {error && <p className="error" role="alert">{error}</p>}
        {!loaded && !error && <p className="muted center-text">Loading messages…</p>}
        <ol className="message-list">
          {messages.map((m, i) => {
            const prev = messages[i - 1];
            const newDay = !prev || !sameDay(prev.created_at, m.created_at);
            const isFirstUnread = firstUnread?.id === m.id;
            const compact = !!prev && !newDay && !isFirstUnread && prev.author_id === m.author_id && m.created_at - prev.created_at < GROUP_WITHIN_MS;
            return (
              <Fragment key={m.id}>
                {newDay && <li className="day-divider"><span>{dayLabel(m.created_at)}</span></li>}
                {isFirstUnread && <li className="unread-divider"><span>New</span></li>}
                <li>
                  <MessageItem m={m} me={me} space={space} variant="chat" compact={compact} onOpenThread={onOpenThread}
                    onError={onError} highlighted={highlight === m.id} online={online.has(m.author_id)} />
                </li>
              </Fragment>
            );
          })}
        </ol>
        {loaded && messages.length === 0 && !error && <p className="empty">No messages yet. Say hello.</p>}
      </div>
      {actionError && <p className="error inline-error" role="alert">{actionError} <button type="button" className="link" onClick={() => setActionError('')}>Dismiss</button></p>}
      {newBelow > 0 && (
        <button type="button" className="jump-new" onClick={() => { scrollToBottom(); setNewBelow(0); }}>
          {plural(newBelow, 'new message')} <span aria-hidden="true">↓</span>
        </button>
      )}
      {footer}
      {canWrite && (
        <ChatComposer spaceId={space.id} label="Message" placeholder={`Message ${title}`}
          onSent={(m) => { stick.current = true; add(m); }} autoFocus={!focusMessage && window.innerWidth > 720} phiRule={space.template?.phi} />
      )}
    </div>
  );
}
