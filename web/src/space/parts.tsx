// Pieces of a message shared by chat lines, feed posts and replies: reactions, idea votes,
// polls, the editor and the edit history.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { Api, errorText, type EditVersion, type Message, type PhiRule } from '../api';
import { PhiPanel } from './PhiGuard';
import { usePhiGuard } from './usePhiGuard';
import { EMOJI, emojiName, useAction } from './actions';
import { fullTime, plural } from '../lib/format';
import Dialog from '../components/Dialog';
import Markdown from '../components/Markdown';
import Icon from '../components/Icon';

export function ReactionBar({ m, canReact, onError }: { m: Message; canReact: boolean; onError: (t: string) => void }) {
  const act = useAction(onError);
  if (m.reactions.length === 0) return null;
  return (
    <ul className="reactions" aria-label="Reactions">
      {m.reactions.map((r) => (
        <li key={r.emoji}>
          <button type="button" className={`reaction ${r.mine ? 'mine' : ''}`} aria-pressed={r.mine} disabled={!canReact}
            aria-label={`${emojiName(r.emoji)}: ${plural(r.count, 'reaction')}${r.mine ? ', including yours' : ''}`}
            onClick={() => act(() => Api.react(m.id, r.emoji, !r.mine))}>
            <span aria-hidden="true">{r.emoji}</span> <span className="count">{r.count}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

/** A small menu of reactions; arrow keys move, Esc closes, focus returns to the button. */
export function EmojiPicker({ m, onError }: { m: Message; onError: (t: string) => void }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const id = useId();
  const act = useAction(onError);
  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLButtonElement>('button')?.focus();
    const away = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && e.target !== button.current) setOpen(false);
    };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [open]);
  const close = () => { setOpen(false); button.current?.focus(); };
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(menu.current?.querySelectorAll<HTMLButtonElement>('button') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { e.preventDefault(); items[(i + 1) % items.length]?.focus(); }
    if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { e.preventDefault(); items[(i - 1 + items.length) % items.length]?.focus(); }
  };
  return (
    <span className="emoji-picker">
      <button ref={button} type="button" className="tool" aria-label="Add reaction" aria-haspopup="menu" aria-expanded={open} aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}>
        <Icon name="smile" /><Icon name="plus" size={10} />
      </button>
      {open && (
        <div ref={menu} id={id} className="emoji-menu" role="menu" aria-label="Reactions" onKeyDown={onKey}>
          {EMOJI.map((e) => {
            const mine = m.reactions.some((r) => r.emoji === e && r.mine);
            return (
              <button key={e} type="button" role="menuitem" aria-label={`${mine ? 'Remove' : 'React with'} ${emojiName(e)}`} className={mine ? 'mine' : ''}
                onClick={() => { close(); void act(() => Api.react(m.id, e, !mine)); }}>{e}</button>
            );
          })}
        </div>
      )}
    </span>
  );
}

export function IdeaVote({ m, canVote, onError }: { m: Message; canVote: boolean; onError: (t: string) => void }) {
  const act = useAction(onError);
  return (
    <button type="button" className={`vote ${m.my_vote ? 'mine' : ''}`} aria-pressed={m.my_vote} disabled={!canVote}
      aria-label={`${m.my_vote ? 'Remove my vote' : 'Vote for this idea'} (${plural(m.vote_count, 'vote')})`}
      onClick={() => act(() => Api.vote(m.id, !m.my_vote))}>
      <Icon name="up" size={14} /> <span className="count">{m.vote_count}</span> <span>{m.my_vote ? 'Voted' : 'Vote'}</span>
    </button>
  );
}

export function Poll({ m, canVote, onError }: { m: Message; canVote: boolean; onError: (t: string) => void }) {
  // The choice shows at once; once the server's event reports a change, its value wins.
  const [pending, setPending] = useState<{ option: number | null; base: number | null } | null>(null);
  const vote = async (option: number | null) => {
    setPending({ option, base: m.my_poll_vote });
    try { await Api.pollVote(m.id, option); } catch (e) { setPending(null); onError(errorText(e)); }
  };
  const mine = pending && m.my_poll_vote === pending.base ? pending.option : m.my_poll_vote;
  const total = m.poll_options.reduce((n, o) => n + o.votes, 0);
  const pct = (v: number) => (total ? Math.round((v / total) * 100) : 0);
  return (
    <fieldset className="poll" disabled={!canVote}>
      <legend className="visually-hidden">{m.title || 'Poll'}: choose one</legend>
      {m.poll_options.map((o) => (
        <label key={o.index} className={`poll-option ${mine === o.index ? 'chosen' : ''}`}>
          <span className="poll-bar" style={{ width: `${pct(o.votes)}%` }} aria-hidden="true" />
          <input type="radio" name={`poll-${m.id}`} value={o.index} checked={mine === o.index} onChange={() => void vote(o.index)} />
          <span className="poll-text">{o.text}</span>
          <span className="poll-votes">{plural(o.votes, 'vote')} · {pct(o.votes)}%</span>
        </label>
      ))}
      <p className="poll-total">
        {plural(total, 'vote')} in total
        {mine !== null && canVote && (
          <> · <button type="button" className="link" onClick={() => void vote(null)}>Withdraw my vote</button></>
        )}
      </p>
    </fieldset>
  );
}

/** Edits body (and title for posts). Enter saves in chat (Ctrl+Enter for posts); Esc cancels. */
export function EditForm({ m, withTitle, multiline, onDone, phiRule }: {
  m: Message; withTitle: boolean; multiline: boolean; onDone: () => void; phiRule?: PhiRule;
}) {
  const [body, setBody] = useState(m.body);
  const [title, setTitle] = useState(m.title);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const id = useId();
  // An edit is screened like a new post: the same preview, refusal and "Send anyway".
  const fields: Record<string, string> = withTitle ? { title, body } : { body };
  const guard = usePhiGuard(m.space_id, fields, phiRule, undefined, m.id);
  const blocked = guard.refusal?.code === 'phi_blocked';
  const save = async (confirmPhi = false) => {
    if (busy || blocked) return;
    if (body === m.body && title === m.title) { onDone(); return; }
    setBusy(true);
    setError('');
    try {
      await Api.edit(m.id, body, withTitle ? title : undefined, confirmPhi);
      onDone();
    } catch (e) {
      if (!guard.refused(e)) setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="edit-form" onSubmit={(e) => { e.preventDefault(); void save(); }}
      onKeyDown={(e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); onDone(); } }}>
      {withTitle && (
        <>
          <label htmlFor={`${id}-title`}>Title</label>
          <input id={`${id}-title`} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />
        </>
      )}
      <label htmlFor={`${id}-body`} className={withTitle ? '' : 'visually-hidden'}>Edit message</label>
      <textarea id={`${id}-body`} value={body} autoFocus rows={Math.min(10, Math.max(2, body.split('\n').length))}
        onChange={(e) => setBody(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.nativeEvent.isComposing && (multiline ? e.ctrlKey || e.metaKey : !e.shiftKey)) { e.preventDefault(); void save(); }
        }} />
      <PhiPanel fields={fields} guard={guard} busy={busy} onSendAnyway={() => void save(true)} />
      {error && <p className="error" role="alert">{error}</p>}
      <div className="row">
        <button type="submit" className="primary small" disabled={busy || blocked}>Save</button>
        <button type="button" className="secondary small" onClick={onDone}>Cancel</button>
        <span className="hint">{multiline ? 'Ctrl+Enter saves' : 'Enter saves'} · Esc cancels</span>
      </div>
    </form>
  );
}

export function HistoryDialog({ m, onClose }: { m: Message; onClose: () => void }) {
  const [items, setItems] = useState<EditVersion[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    Api.history(m.id).then((r) => setItems(r.items)).catch((e) => setError(errorText(e)));
  }, [m.id]);
  return (
    <Dialog title="Edit history" onClose={onClose} wide>
      {error && <p className="error" role="alert">{error}</p>}
      {!items && !error && <p aria-busy="true">Loading…</p>}
      {items && (
        <ol className="history" aria-label="Versions, newest first">
          {items.slice().sort((a, b) => b.version - a.version).map((h, i, all) => (
            <li key={h.version} className={`history-item ${i === 0 ? 'current' : ''}`}>
              <p className="meta">
                {i === 0 ? 'Current version' : i === all.length - 1 ? 'Original' : `Version ${h.version}`}
                {h.edited_at ? ` · ${fullTime(h.edited_at)}` : ''}
              </p>
              <Markdown text={h.body} />
            </li>
          ))}
          {items.length === 0 && <li className="history-item current"><Markdown text={m.body} /></li>}
        </ol>
      )}
    </Dialog>
  );
}
