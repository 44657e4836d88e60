// A community feed: newest post first, a composer for every post kind, filters by kind,
// comments under each post, and older posts loading as you scroll down.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Api, errorText, type MessageKind, type Space } from '../api';
import { useApp } from '../state';
import MessageItem from './MessageItem';
import Comments from './Comments';
import { PostComposer } from './Composer';
import { useTimeline } from './useTimeline';

const FILTERS: { value: 'all' | MessageKind | 'open-questions'; label: string }[] = [
  { value: 'all', label: 'All posts' },
  { value: 'announcement', label: 'Announcements' },
  { value: 'question', label: 'Questions' },
  { value: 'open-questions', label: 'Unanswered' },
  { value: 'idea', label: 'Ideas' },
  { value: 'poll', label: 'Polls' },
  { value: 'discussion', label: 'Discussions' },
];

export default function Feed({ space, focusMessage, canWrite }: { space: Space; focusMessage?: number; canWrite: boolean }) {
  const { me, online } = useApp();
  const { messages, loaded, olderCursor, loadingOlder, error, loadOlder, reveal, add } = useTimeline(space);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const [filter, setFilter] = useState<(typeof FILTERS)[number]['value']>('all');
  const [highlight, setHighlight] = useState<number | undefined>(undefined);
  const [actionError, setActionError] = useState('');
  const bottom = useRef<HTMLDivElement>(null);

  const toggle = useCallback((id: number) => setOpen((s) => {
    const next = new Set(s);
    if (next.has(id)) next.delete(id); else next.add(id);
    return next;
  }), []);

  useEffect(() => {
    const sentinel = bottom.current;
    if (!loaded || !sentinel || !olderCursor || loadingOlder) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadOlder();
    }, { rootMargin: '0px 0px 400px 0px' });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [loaded, olderCursor, loadingOlder, loadOlder]);

  // A link to a post or a comment: show it, with its comments open.
  useEffect(() => {
    if (!focusMessage || !loaded) return;
    let cancelled = false;
    (async () => {
      try {
        const target = await Api.message(focusMessage);
        const post = target.parent_id === null ? target : await Api.message(target.parent_id);
        if (cancelled || !(await reveal(post.id, post.seq)) || cancelled) return;
        setFilter('all');
        setHighlight(target.id);
        if (target.parent_id !== null) setOpen((s) => new Set(s).add(post.id));
        window.setTimeout(() => {
          const node = document.querySelector<HTMLElement>(`[data-message-id="${target.id}"]`);
          node?.scrollIntoView({ block: 'center' });
          node?.focus({ preventScroll: true });
        }, 300);
      } catch (e) {
        if (!cancelled) setActionError(`That post is no longer available. ${errorText(e)}`);
      }
    })();
    return () => { cancelled = true; };
  }, [focusMessage, loaded, reveal]);

  const onError = useCallback((t: string) => setActionError(t), []);
  const posts = messages.slice().reverse().filter((m) =>
    filter === 'all' ? true : filter === 'open-questions' ? m.kind === 'question' && !m.accepted_answer_id : m.kind === filter);

  return (
    <div className="feed">
      {canWrite && <PostComposer spaceId={space.id} canAnnounce={space.my_role === 'owner'} onPosted={add} phiRule={space.template?.phi} />}
      <div className="feed-filters" role="group" aria-label="Show">
        {FILTERS.map((f) => (
          <button key={f.value} type="button" className={`filter ${filter === f.value ? 'active' : ''}`} aria-pressed={filter === f.value} onClick={() => setFilter(f.value)}>
            {f.label}
          </button>
        ))}
      </div>
      {actionError && <p className="error" role="alert">{actionError} <button type="button" className="link" onClick={() => setActionError('')}>Dismiss</button></p>}
      {error && <p className="error" role="alert">{error}</p>}
      {!loaded && !error && <p className="muted">Loading posts…</p>}
      <div className="posts">
        {posts.map((m) => (
          <MessageItem key={m.id} m={m} me={me} space={space} variant="post" onError={onError} highlighted={highlight === m.id}
            online={online.has(m.author_id)} commentsOpen={open.has(m.id)} onToggleComments={() => toggle(m.id)}
            comments={open.has(m.id) ? <Comments post={m} space={space} highlight={highlight} /> : null} />
        ))}
      </div>
      {loaded && posts.length === 0 && (
        <p className="empty">{filter === 'all' ? 'No posts yet. Start the conversation.' : 'No posts of this kind among those loaded.'}</p>
      )}
      <div ref={bottom} className="sentinel" />
      {olderCursor && <button type="button" className="load-older" onClick={() => void loadOlder()} disabled={loadingOlder}>{loadingOlder ? 'Loading…' : 'Load older posts'}</button>}
    </div>
  );
}
