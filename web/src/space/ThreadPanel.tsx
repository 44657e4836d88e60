// A channel message's thread in a side panel (a full screen on a phone). Esc closes it.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Message, Space } from '../api';
import { memberIdIn, plural } from '../lib/format';
import { useApp } from '../state';
import MessageItem from './MessageItem';
import { ChatComposer } from './Composer';
import { useThread } from './useThread';
import Icon from '../components/Icon';

export default function ThreadPanel({ root, space, highlight, onClose }: { root: Message; space: Space; highlight?: number; onClose: () => void }) {
  const { me, online } = useApp();
  const { head, items, error, gone, add } = useThread(root, memberIdIn(space, me.id));
  const [actionError, setActionError] = useState('');
  const end = useRef<HTMLDivElement>(null);
  const onError = useCallback((t: string) => setActionError(t), []);
  const canWrite = space.my_role !== null && space.my_role !== 'read_only' && !space.archived;

  useEffect(() => {
    if (highlight) document.querySelector(`.thread-panel [data-message-id="${highlight}"]`)?.scrollIntoView({ block: 'center' });
    else end.current?.scrollIntoView({ block: 'end' });
  }, [items?.length, highlight]);

  return (
    <aside className="side-panel thread-panel" aria-labelledby="thread-title">
      <header className="panel-head">
        <h2 id="thread-title" tabIndex={-1}>Thread</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close thread"><Icon name="close" /></button>
      </header>
      <div className="panel-body">
        {gone ? <p className="notice">This message was deleted.</p> : (
          <>
            <MessageItem m={head} me={me} space={space} variant="chat" onError={onError} online={online.has(head.author_id)} />
            <p className="thread-count">{plural(items?.length ?? head.reply_count, 'reply', 'replies')}</p>
            {error && <p className="error" role="alert">{error}</p>}
            {actionError && <p className="error" role="alert">{actionError}</p>}
            {!items && !error && <p aria-busy="true" className="muted">Loading replies…</p>}
            <div className="thread-replies">
              {items?.map((m) => (
                <MessageItem key={m.id} m={m} me={me} space={space} variant="reply" onError={onError} highlighted={m.id === highlight} online={online.has(m.author_id)} />
              ))}
            </div>
            <div ref={end} />
          </>
        )}
      </div>
      {canWrite && !gone && <ChatComposer spaceId={space.id} parentId={root.id} label="Reply" placeholder="Reply in thread…" onSent={add} autoFocus phiRule={space.template?.phi} />}
    </aside>
  );
}
