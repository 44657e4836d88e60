// Dialogs for reporting a message and for a moderator's decision on one. Each asks for a reason:
// the server records it in the moderation log and the author sees it.
import { useId, useState } from 'react';
import { errorText, type Message } from '../api';
import { Gov, type ModerationAction, type ModerationKind } from '../governanceApi';
import Dialog from './Dialog';

export function ReportDialog({ m, onClose, onReported }: { m: Message; onClose: () => void; onReported: () => void }) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title="Report this message" onClose={onClose}>
      <form onSubmit={async (e) => {
        e.preventDefault();
        if (!reason.trim()) { setError('Say what is wrong so a moderator can act on it.'); return; }
        setBusy(true);
        try { await Gov.report(m.id, reason.trim()); onReported(); } catch (err) { setError(errorText(err)); } finally { setBusy(false); }
      }}>
        <p className="hint">Moderators of this space will review {m.author.display_name}'s message. They will not see who reported it unless they need to.</p>
        <label htmlFor={`${id}-reason`}>What is wrong?</label>
        <textarea id={`${id}-reason`} rows={3} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} autoFocus />
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Reporting…' : 'Report'}</button>
        </div>
      </form>
    </Dialog>
  );
}

const CHOICES: { action: ModerationKind; label: string; hint: string }[] = [
  { action: 'approve', label: 'Approve', hint: 'Publish it (or keep it) and close the reports.' },
  { action: 'hide', label: 'Hide', hint: 'Hide it from members; it can be restored on appeal.' },
  { action: 'remove', label: 'Remove', hint: 'Remove it for everyone.' },
  { action: 'warn', label: 'Warn the author', hint: 'Keep it, and tell the author why it was a problem.' },
  { action: 'suspend', label: 'Suspend the author', hint: 'Stop the author posting in this space for a while.' },
];

/** A moderator's decision on a message: approve, hide, remove, warn or suspend, with a reason. */
export function ModerateDialog({ m, initial = 'approve', onClose, onDone }: {
  m: Pick<Message, 'id' | 'author'>; initial?: ModerationKind; onClose: () => void; onDone: (a: ModerationAction) => void;
}) {
  const id = useId();
  const [action, setAction] = useState<ModerationKind>(initial);
  const [reason, setReason] = useState('');
  const [days, setDays] = useState('7');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={`Moderate ${m.author.display_name}'s message`} onClose={onClose}>
      <form onSubmit={async (e) => {
        e.preventDefault();
        if (action !== 'approve' && !reason.trim()) { setError('Give a reason: the author sees it and may appeal.'); return; }
        setBusy(true);
        setError('');
        try {
          const body: { action: ModerationKind; reason: string; suspend_days?: number } = { action, reason: reason.trim() || 'Approved by a moderator' };
          if (action === 'suspend' && days.trim()) body.suspend_days = Number(days);
          onDone(await Gov.moderate(m.id, body));
        } catch (err) { setError(errorText(err)); } finally { setBusy(false); }
      }}>
        <fieldset className="choice-list">
          <legend>Decision</legend>
          {CHOICES.map((c) => (
            <label key={c.action} className="choice">
              <input type="radio" name={`${id}-action`} value={c.action} checked={action === c.action} onChange={() => setAction(c.action)} />
              <span><strong>{c.label}</strong> <span className="muted">{c.hint}</span></span>
            </label>
          ))}
        </fieldset>
        {action === 'suspend' && (
          <>
            <label htmlFor={`${id}-days`}>Days (empty: until lifted)</label>
            <input id={`${id}-days`} type="number" min={1} max={365} value={days} onChange={(e) => setDays(e.target.value)} />
          </>
        )}
        <label htmlFor={`${id}-reason`}>Reason{action === 'approve' ? <span className="muted"> (optional)</span> : null}</label>
        <textarea id={`${id}-reason`} rows={3} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className={action === 'approve' ? 'primary' : 'danger'} disabled={busy}>
            {busy ? 'Saving…' : CHOICES.find((c) => c.action === action)?.label}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
