// A community post's comments, shown under the post. For a question, the asker (or a
// moderator) can accept one comment as the answer; it is shown first.
import { useCallback, useState } from 'react';
import type { Message, Space } from '../api';
import { memberIdIn } from '../lib/format';
import { useApp } from '../state';
import MessageItem from './MessageItem';
import { ChatComposer } from './Composer';
import { useThread } from './useThread';

export default function Comments({ post, space, highlight }: { post: Message; space: Space; highlight?: number }) {
  const { me, online } = useApp();
  const { head, items, error, add } = useThread(post, memberIdIn(space, me.id));
  const [actionError, setActionError] = useState('');
  const onError = useCallback((t: string) => setActionError(t), []);
  const canWrite = space.my_role !== null && space.my_role !== 'read_only' && !space.archived;
  const question = post.kind === 'question' ? { ...head, accepted_answer_id: post.accepted_answer_id ?? head.accepted_answer_id } : undefined;
  const ordered = items && question?.accepted_answer_id
    ? [...items.filter((m) => m.id === question.accepted_answer_id), ...items.filter((m) => m.id !== question.accepted_answer_id)]
    : items;
  return (
    <section className="comments" aria-label={`Comments on ${post.title || 'this post'}`}>
      {error && <p className="error" role="alert">{error}</p>}
      {actionError && <p className="error" role="alert">{actionError}</p>}
      {!items && !error && <p aria-busy="true" className="muted">Loading comments…</p>}
      {ordered?.map((m) => (
        <MessageItem key={m.id} m={m} me={me} space={space} variant="reply" question={question} onError={onError}
          highlighted={m.id === highlight} online={online.has(m.author_id)} />
      ))}
      {items && items.length === 0 && <p className="muted">No comments yet.</p>}
      {canWrite && <ChatComposer spaceId={space.id} parentId={post.id} label="Comment" placeholder={post.kind === 'question' ? 'Write an answer…' : 'Write a comment…'} onSent={add} phiRule={space.template?.phi} />}
    </section>
  );
}
