// One message. Three shapes: a chat line (channels, direct messages), a feed post (communities,
// with its kind's controls and comments), and a reply (threads and comments).
import { memo, useContext, useState, type MouseEvent, type ReactNode } from 'react';
import { Api, type Message, type Space, type User } from '../api';
import { Gov } from '../governanceApi';
import { fullTime, memberIdIn, plural, shortTime, timeOfDay } from '../lib/format';
import { href } from '../lib/route';
import { AdministeringContext } from '../state';
import Avatar from '../components/Avatar';
import Markdown from '../components/Markdown';
import MessageAttachments from '../components/MessageAttachments';
import { Confirm } from '../components/Dialog';
import Icon from '../components/Icon';
import { EditForm, EmojiPicker, HistoryDialog, IdeaVote, Poll, ReactionBar } from './parts';
import { useAction } from './actions';
import { ModerateDialog, ReportDialog } from '../components/ModerationDialogs';
import { listTypes, messagePhiTypes } from '../lib/phi';

export type Variant = 'chat' | 'post' | 'reply';

const KIND_LABEL: Record<string, string> = {
  discussion: 'Discussion', question: 'Question', idea: 'Idea', poll: 'Poll', announcement: 'Announcement', message: 'Message',
};

export interface MessageProps {
  m: Message;
  me: User;
  space: Space;
  variant: Variant;
  /** Chat: same author as the line before, within a few minutes. */
  compact?: boolean;
  /** Replies: the question they answer (for "Accept answer"). */
  question?: Message;
  highlighted?: boolean;
  online?: boolean;
  onOpenThread?: (m: Message) => void;
  /** Posts: the comments section, rendered below the post when open. */
  comments?: ReactNode;
  commentsOpen?: boolean;
  onToggleComments?: () => void;
  onError: (text: string) => void;
}

function MessageItem({ m, me, space, variant, compact, question, highlighted, online, onOpenThread, comments, commentsOpen, onToggleComments, onError }: MessageProps) {
  const [editing, setEditing] = useState(false);
  const [history, setHistory] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleteError, setDeleteError] = useState('');
  const [reporting, setReporting] = useState(false);
  const [reported, setReported] = useState(false);
  const [moderating, setModerating] = useState(false);
  // On touch screens there is no hover: a tap on the message shows its actions.
  const [showTools, setShowTools] = useState(false);
  const onTap = (e: MouseEvent<HTMLElement>) => {
    if (!(e.target as Element).closest('a, button, input, textarea, select, label, summary')) setShowTools((v) => !v);
  };
  const act = useAction(onError);

  const administering = useContext(AdministeringContext);
  const role = space.my_role;
  const member = role !== null;
  const canWrite = member && role !== 'read_only' && !space.archived;
  const mod = role === 'owner' || role === 'moderator';
  const myId = memberIdIn(space, me.id);
  const mine = m.author_id === myId;
  // Read with emergency access: nothing is changed, whoever reads. Only its author deletes a
  // message; moderators take others' down with a reason (Moderate), which the author may appeal.
  const canDelete = !space.emergency && mine && member;
  const canSeeHistory = mine || mod || administering;
  const canAccept = !!question && question.kind === 'question' && ((question.author_id === myId && member) || mod);
  const accepted = !!question && question.accepted_answer_id === m.id;
  const isPost = variant === 'post';
  const held = m.state === 'held';
  const labelText = `${m.author.display_name}, ${shortTime(m.created_at)}`;

  const marks = (
    <>
      {m.edited_at > 0 && (canSeeHistory
        ? <button type="button" className="link edited" onClick={() => setHistory(true)} aria-label={`Edited ${fullTime(m.edited_at)}: show edit history`}>(edited)</button>
        : <span className="edited" title={`Edited ${fullTime(m.edited_at)}`}>(edited)</span>)}
      {m.pinned && <span className="pinned-mark"><Icon name="pin" size={12} /> Pinned</span>}
      {accepted && <span className="accepted-mark"><Icon name="check" size={12} /> Accepted answer</span>}
    </>
  );
  // A held message is seen only by its author and the moderators until a moderator decides.
  const heldMark = held && (
    <span className="held-mark" title={m.hold_reason === 'phi' && messagePhiTypes(m.phi_types).length ? `Possible patient information: ${listTypes(messagePhiTypes(m.phi_types))}` : undefined}>
      Waiting for review
    </span>
  );

  const header = (
    <header className="message-head">
      {!compact && (space.template?.pseudonyms
        ? <span className="author">{m.author.display_name}</span>
        : <a className="author" href={href.person(m.author_id)}>{m.author.display_name}</a>)}
      {isPost && m.kind !== 'discussion' && <span className={`kind-tag tag-${m.kind}`}>{KIND_LABEL[m.kind]}</span>}
      {isPost && m.kind === 'question' && (m.accepted_answer_id
        ? <span className="answered"><Icon name="check" size={12} /> Answered</span>
        : <span className="unanswered">Awaiting an answer</span>)}
      <time dateTime={new Date(m.created_at).toISOString()} title={fullTime(m.created_at)} className={compact ? 'compact-time' : ''}>
        {compact ? timeOfDay(m.created_at) : shortTime(m.created_at)}
      </time>
      {heldMark}
      {!compact && marks}
    </header>
  );

  const tools = (
    <div className="tools" role="group" aria-label="Message actions">
      {mod && held && (
        <button type="button" className="tool text" onClick={() => act(() => Gov.moderate(m.id, { action: 'approve', reason: 'Approved by a moderator' }))}>Approve</button>
      )}
      {mod && <button type="button" className="tool text" onClick={() => setModerating(true)}>Moderate</button>}
      {canWrite && !held && <EmojiPicker m={m} onError={onError} />}
      {variant === 'chat' && onOpenThread && canWrite && (
        <button type="button" className="tool" onClick={() => onOpenThread(m)} aria-label="Reply in thread"><Icon name="reply" /></button>
      )}
      {canAccept && (
        <button type="button" className="tool text" onClick={() => act(() => Api.accept(m.id, !accepted))}>{accepted ? 'Unaccept' : 'Accept answer'}</button>
      )}
      {mod && m.parent_id === null && (
        <button type="button" className="tool text" onClick={() => act(() => Api.pin(m.id, !m.pinned))}>{m.pinned ? 'Unpin' : 'Pin'}</button>
      )}
      {mine && canWrite && !editing && <button type="button" className="tool text" onClick={() => setEditing(true)}>Edit</button>}
      {member && !mine && !held && (
        <button type="button" className="tool text" disabled={reported} onClick={() => setReporting(true)}>{reported ? 'Reported' : 'Report'}</button>
      )}
      {canDelete && <button type="button" className="tool text danger" onClick={() => setConfirmDelete(true)}>Delete</button>}
    </div>
  );

  const body = editing
    ? <EditForm m={m} withTitle={isPost} multiline={isPost} onDone={() => setEditing(false)} phiRule={space.template?.phi} />
    : <>
      {isPost && m.title && <h2 className="post-title">{m.title}</h2>}
      {m.body && <Markdown text={m.body} me={me.username} />}
      {compact && (m.edited_at > 0 || m.pinned || accepted) && <div className="compact-marks">{marks}</div>}
    </>;
  // An edit changes the text only: the files stay in view under the editor.
  const files = <MessageAttachments m={m} />;

  const kindControls = isPost && (
    <>
      {m.kind === 'poll' && <Poll m={m} canVote={canWrite} onError={onError} />}
    </>
  );

  const footer = (
    <div className="message-foot">
      {isPost && m.kind === 'idea' && <IdeaVote m={m} canVote={canWrite} onError={onError} />}
      <ReactionBar m={m} canReact={canWrite} onError={onError} />
      {variant === 'chat' && m.reply_count > 0 && onOpenThread && (
        <button type="button" className="link thread-link" onClick={() => onOpenThread(m)}>{plural(m.reply_count, 'reply', 'replies')}</button>
      )}
      {isPost && onToggleComments && (
        <button type="button" className="link comments-link" aria-expanded={!!commentsOpen} onClick={onToggleComments}>
          {m.reply_count > 0 ? plural(m.reply_count, 'comment') : canWrite ? 'Comment' : 'No comments'}
        </button>
      )}
    </div>
  );

  const dialogs = (
    <>
      {history && <HistoryDialog m={m} onClose={() => setHistory(false)} />}
      {reporting && <ReportDialog m={m} onClose={() => setReporting(false)} onReported={() => { setReporting(false); setReported(true); }} />}
      {moderating && <ModerateDialog m={m} initial={held ? 'approve' : 'hide'} onClose={() => setModerating(false)} onDone={() => setModerating(false)} />}
      {confirmDelete && (
        <Confirm title={isPost ? 'Delete this post?' : 'Delete this message?'} confirmLabel="Delete" error={deleteError}
          text={mine ? 'It will disappear for everyone. Its history is kept for compliance.' : `You are removing ${m.author.display_name}'s message as a moderator.`}
          onClose={() => { setConfirmDelete(false); setDeleteError(''); }}
          onConfirm={async () => {
            try { await Api.remove(m.id); setConfirmDelete(false); } catch (e) { setDeleteError(e instanceof Error ? e.message : 'Could not delete.'); }
          }} />
      )}
    </>
  );

  if (isPost) {
    return (
      <article className={`post kind-${m.kind} ${held ? 'is-held' : ''} ${m.pinned ? 'is-pinned' : ''} ${highlighted ? 'flash' : ''} ${showTools ? 'show-tools' : ''}`} data-message-id={m.id} onClick={onTap}
        aria-label={`${KIND_LABEL[m.kind]} by ${m.author.display_name}${m.title ? `: ${m.title}` : ''}`} tabIndex={highlighted ? -1 : undefined}>
        <div className="post-main">
          <Avatar id={m.author_id} name={m.author.display_name} online={online} />
          <div className="post-content">
            {header}
            {body}
            {files}
            {kindControls}
            {footer}
          </div>
        </div>
        {tools}
        {commentsOpen && comments}
        {dialogs}
      </article>
    );
  }

  return (
    <div className={`message ${variant} ${compact ? 'compact' : ''} ${held ? 'is-held' : ''} ${m.pinned ? 'is-pinned' : ''} ${accepted ? 'is-accepted' : ''} ${highlighted ? 'flash' : ''} ${m.mentions.includes(myId) ? 'mentions-me' : ''} ${showTools ? 'show-tools' : ''}`} onClick={onTap}
      data-message-id={m.id} aria-label={labelText} role="article" tabIndex={highlighted ? -1 : undefined}>
      <div className="gutter">{compact ? null : <Avatar id={m.author_id} name={m.author.display_name} online={online} size={variant === 'reply' ? 'sm' : 'md'} />}</div>
      <div className="message-content">
        {header}
        {body}
        {files}
        {footer}
      </div>
      {tools}
      {dialogs}
    </div>
  );
}

export default memo(MessageItem);
