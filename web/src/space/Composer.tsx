// Writing messages. A draft survives switching spaces (kept in memory only, never in browser
// storage), and a failed send keeps the text and retries with the same client_id, so the server
// stores it once however many times it is sent. Files are uploaded as they are attached and sent
// by id (see useAttachments); a message may be files alone.
import { useEffect, useId, useRef, useState } from 'react';
import { Api, errorText, type Message, type MessageKind, type PhiRule } from '../api';
import { newClientId } from '../lib/messages';
import { onWipe } from '../lib/wipe';
import { useApp } from '../state';
import Icon from '../components/Icon';
import { PhiPanel } from './PhiGuard';
import { usePhiGuard } from './usePhiGuard';
import { AttachButton, AttachmentChips } from './AttachmentPicker';
import { useAttachments } from './useAttachments';
import { heldNotice } from '../lib/phi';

const drafts = new Map<string, string>();
onWipe(() => drafts.clear());

function useDraft(key: string): [string, (v: string) => void] {
  const [value, setValue] = useState(() => drafts.get(key) ?? '');
  const set = (v: string) => {
    setValue(v);
    if (v) drafts.set(key, v); else drafts.delete(key);
  };
  return [value, set];
}

/** Grows a textarea with its content, up to a limit set in CSS. */
function autosize(el: HTMLTextAreaElement | null) {
  if (!el) return;
  el.style.height = 'auto';
  el.style.height = `${el.scrollHeight + 2}px`;
}

export function ChatComposer({ spaceId, parentId, label, placeholder, onSent, autoFocus, phiRule }: {
  spaceId: number; parentId?: number; label: string; placeholder: string; onSent?: (m: Message) => void; autoFocus?: boolean;
  /** The space's PHI rule when known ("allow" skips the preview). */
  phiRule?: PhiRule;
}) {
  const { stream } = useApp();
  const id = useId();
  const draftKey = `${spaceId}:${parentId ?? 'top'}`;
  const [body, setBody] = useDraft(draftKey);
  const files = useAttachments(spaceId, draftKey);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const clientId = useRef<string | null>(null);
  const lastTyping = useRef(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const fields = { body };
  const guard = usePhiGuard(spaceId, fields, phiRule, parentId);
  const blocked = guard.refusal?.code === 'phi_blocked';
  // Text or files to send, and no file still on its way or waiting for the author's decision.
  const ready = (!!body.trim() || files.ids.length > 0) && !files.pending;
  const fileIds = files.ids.join(',');
  useEffect(() => { autosize(area.current); }, [body]);
  useEffect(() => { clientId.current = null; }, [fileIds]); // other files, new message

  // confirmPhi: the author saw the PHI warning for this exact text and chose to send it.
  const send = async (confirmPhi = false) => {
    const text = body;
    const ids = files.ids;
    if (busy || !ready || blocked) return;
    setBusy(true);
    setError('');
    setNotice('');
    clientId.current ??= newClientId();
    try {
      const m = await Api.post(spaceId, {
        body: text, client_id: clientId.current, ...(parentId ? { parent_id: parentId } : {}), ...(confirmPhi ? { confirm_phi: true } : {}),
        ...(ids.length ? { attachment_ids: ids } : {}),
      });
      clientId.current = null;
      lastTyping.current = 0; // the next keystroke starts a new "typing…"
      setBody('');
      files.sent(ids);
      guard.clear();
      if (m.state === 'held') setNotice(heldNotice(m.hold_reason));
      onSent?.(m);
    } catch (e) {
      // A PHI refusal stored nothing: the panel shows why, the text stays for the author to fix.
      if (!guard.refused(e)) setError(`Not sent: ${errorText(e)}`);
    } finally {
      setBusy(false);
      area.current?.focus();
    }
  };

  return (
    <form className="composer chat-composer" onSubmit={(e) => { e.preventDefault(); void send(); }}>
      <AttachButton onFiles={files.add} />
      <label htmlFor={id} className="visually-hidden">{label}</label>
      <textarea id={id} ref={area} value={body} rows={1} placeholder={placeholder} autoFocus={autoFocus} data-autofocus={autoFocus ? '' : undefined}
        aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`} aria-invalid={blocked || undefined}
        onChange={(e) => {
          setBody(e.target.value);
          setNotice('');
          clientId.current = null; // new text, new message
          if (e.target.value && Date.now() - lastTyping.current > 3000) { lastTyping.current = Date.now(); stream.typing(spaceId); }
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) { e.preventDefault(); void send(); }
        }} />
      <button type="submit" className="primary send" disabled={busy || !ready || blocked} aria-label={parentId ? 'Send reply' : 'Send message'}>
        <Icon name="send" size={20} />
      </button>
      <AttachmentChips files={files} />
      <PhiPanel fields={fields} guard={guard} busy={busy} onSendAnyway={() => void send(true)} />
      <p id={`${id}-hint`} className="composer-hint">Enter sends · Shift+Enter for a new line · Markdown works</p>
      {error && <p id={`${id}-error`} className="error composer-error" role="alert">{error}</p>}
      {notice && <p className="composer-notice" role="status">{notice}</p>}
    </form>
  );
}

const POST_KINDS: { kind: MessageKind; label: string; hint: string }[] = [
  { kind: 'discussion', label: 'Discussion', hint: 'Share something and talk it over' },
  { kind: 'question', label: 'Question', hint: 'Ask; the best answer can be accepted' },
  { kind: 'idea', label: 'Idea', hint: 'Propose a change; colleagues vote' },
  { kind: 'poll', label: 'Poll', hint: 'Ask people to choose one option' },
  { kind: 'announcement', label: 'Announcement', hint: 'News from the owners of this community' },
];

export function PostComposer({ spaceId, canAnnounce, onPosted, phiRule }: { spaceId: number; canAnnounce: boolean; onPosted: (m: Message) => void; phiRule?: PhiRule }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<MessageKind>('discussion');
  const [title, setTitle] = useState('');
  const [body, setBody] = useDraft(`${spaceId}:post`);
  const files = useAttachments(spaceId, `${spaceId}:post`);
  const [options, setOptions] = useState<string[]>(['', '']);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const clientId = useRef<string | null>(null);
  const kinds = POST_KINDS.filter((k) => k.kind !== 'announcement' || canAnnounce);
  const fields: Record<string, string> = { title, body };
  if (kind === 'poll') options.forEach((o, i) => { fields[`poll_options/${i}`] = o; });
  const guard = usePhiGuard(spaceId, fields, phiRule);
  const blocked = guard.refusal?.code === 'phi_blocked';
  const fileIds = files.ids.join(',');
  useEffect(() => { clientId.current = null; }, [fileIds]); // other files, new post

  const submit = async (confirmPhi = false) => {
    if (busy || blocked) return;
    const pollOptions = options.map((o) => o.trim()).filter(Boolean);
    const ids = files.ids;
    if (kind === 'poll' && pollOptions.length < 2) { setError('A poll needs at least two options.'); return; }
    if (kind !== 'poll' && !body.trim() && ids.length === 0) { setError('Write something or attach a file first.'); return; }
    if (files.pending) { setError('Wait for the files to finish attaching, or remove them.'); return; }
    setBusy(true);
    setError('');
    setNotice('');
    clientId.current ??= newClientId();
    try {
      const m = await Api.post(spaceId, {
        body, kind, client_id: clientId.current,
        ...(title.trim() ? { title: title.trim() } : {}),
        ...(kind === 'poll' ? { poll_options: pollOptions } : {}),
        ...(confirmPhi ? { confirm_phi: true } : {}),
        ...(ids.length ? { attachment_ids: ids } : {}),
      });
      clientId.current = null;
      setBody(''); setTitle(''); setOptions(['', '']); setKind('discussion'); setOpen(false);
      files.sent(ids);
      guard.clear();
      if (m.state === 'held') setNotice(heldNotice(m.hold_reason));
      onPosted(m);
    } catch (e) {
      if (!guard.refused(e)) setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (!open) {
    return (
      <div className="post-composer collapsed">
        <button type="button" className="start-post" onClick={() => { setOpen(true); setNotice(''); }}>Start a post: discussion, question, idea or poll…</button>
        {notice && <p className="composer-notice" role="status">{notice}</p>}
      </div>
    );
  }

  const titleLabel = kind === 'question' ? 'Your question' : kind === 'poll' ? 'Poll question' : kind === 'idea' ? 'Idea in a line' : 'Title';
  return (
    <form className="composer post-composer" aria-label="New post" onSubmit={(e) => { e.preventDefault(); void submit(); }}
      onKeyDown={(e) => { if (e.key === 'Escape' && !body && !title) { e.stopPropagation(); setOpen(false); } }}>
      <fieldset className="kind-picker">
        <legend>Post type</legend>
        {kinds.map((k) => (
          <label key={k.kind} className={`kind-option ${kind === k.kind ? 'selected' : ''}`} title={k.hint}>
            <input type="radio" name={`${id}-kind`} value={k.kind} checked={kind === k.kind} onChange={() => { setKind(k.kind); clientId.current = null; }} />
            {k.label}
          </label>
        ))}
      </fieldset>
      <p className="hint">{kinds.find((k) => k.kind === kind)?.hint}</p>
      <label htmlFor={`${id}-title`}>{titleLabel}{kind === 'discussion' || kind === 'announcement' ? <span className="muted"> (optional)</span> : null}</label>
      <input id={`${id}-title`} value={title} maxLength={200} autoFocus onChange={(e) => { setTitle(e.target.value); clientId.current = null; }}
        required={kind === 'question' || kind === 'poll' || kind === 'idea'} />
      <label htmlFor={`${id}-body`}>{kind === 'poll' ? 'Details' : 'Message'}{kind === 'poll' ? <span className="muted"> (optional)</span> : null}</label>
      <textarea id={`${id}-body`} value={body} rows={4} placeholder="Markdown works: **bold**, lists, links" aria-invalid={blocked || undefined}
        onChange={(e) => { setBody(e.target.value); clientId.current = null; }}
        onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); void submit(); } }} />
      {kind === 'poll' && (
        <fieldset className="poll-editor">
          <legend>Options</legend>
          {options.map((o, i) => (
            <div key={i} className="row">
              <label htmlFor={`${id}-opt-${i}`} className="visually-hidden">Option {i + 1}</label>
              <input id={`${id}-opt-${i}`} value={o} maxLength={200} placeholder={`Option ${i + 1}`}
                onChange={(e) => { setOptions(options.map((x, j) => (j === i ? e.target.value : x))); clientId.current = null; }} />
              {options.length > 2 && (
                <button type="button" className="icon-button" aria-label={`Remove option ${i + 1}`}
                  onClick={() => setOptions(options.filter((_, j) => j !== i))}><Icon name="close" /></button>
              )}
            </div>
          ))}
          {options.length < 10 && <button type="button" className="secondary small" onClick={() => setOptions([...options, ''])}>Add an option</button>}
        </fieldset>
      )}
      <div className="row attach-row">
        <AttachButton onFiles={files.add} withText />
      </div>
      <AttachmentChips files={files} />
      <PhiPanel fields={fields} guard={guard} busy={busy} onSendAnyway={() => void submit(true)} />
      {error && <p className="error" role="alert">{error}</p>}
      <div className="row end">
        <span className="hint">Ctrl+Enter posts · no patient details outside approved spaces</span>
        <button type="button" className="secondary" onClick={() => setOpen(false)}>Cancel</button>
        <button type="submit" className="primary" disabled={busy || blocked}>{busy ? 'Posting…' : 'Post'}</button>
      </div>
    </form>
  );
}
