// Every emergency access: who opened which space, why, for how long and how it ended, and the
// review each one gets once it is over. An active one can be revoked. The list follows the
// emergency.started and emergency.ended events, so it is current while on screen.
import { useCallback, useEffect, useId, useState } from 'react';
import { ApiError, errorText, problemField } from '../../api';
import { Emergency, type EmergencyGrant, type GrantState, type ReviewOutcome } from '../../emergencyApi';
import { endText, redactedText } from '../../lib/emergency';
import { fullTime, shortTime, spaceTitle } from '../../lib/format';
import { useLatestOnly } from '../../lib/latest';
import { useApp, useFrames } from '../../state';
import Dialog, { Confirm } from '../../components/Dialog';

const STATES: { value: GrantState; label: string }[] = [
  { value: 'active', label: 'Active' },
  { value: 'unreviewed', label: 'Awaiting review' },
  { value: 'all', label: 'All' },
];

export default function EmergencyGrants() {
  const { me } = useApp();
  const id = useId();
  const [state, setState] = useState<GrantState>('all');
  const [grants, setGrants] = useState<EmergencyGrant[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const [revoking, setRevoking] = useState<EmergencyGrant | null>(null);
  const [revokeError, setRevokeError] = useState('');
  const [reviewing, setReviewing] = useState<EmergencyGrant | null>(null);
  const latest = useLatestOnly();

  const load = useCallback(() => {
    latest(Emergency.grants('all', state), (p) => { setGrants(p.items); setCursor(p.next_cursor); setError(''); }, (e) => setError(errorText(e)));
  }, [state, latest]);
  useEffect(load, [load]);
  useFrames((f) => { if (f.type === 'user' && (f.event === 'emergency.started' || f.event === 'emergency.ended')) load(); });

  const more = async () => {
    try {
      const p = await Emergency.grants('all', state, cursor);
      setGrants((l) => [...(l ?? []), ...p.items.filter((g) => !l?.some((x) => x.id === g.id))]);
      setCursor(p.next_cursor);
    } catch (e) { setError(errorText(e)); }
  };

  return (
    <div className="emergency-grants">
      <div className="page-head">
        <h2>Emergency access</h2>
        <div className="row">
          <label htmlFor={`${id}-state`}>Show</label>
          <select id={`${id}-state`} value={state} onChange={(e) => setState(e.target.value as GrantState)}>
            {STATES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
          </select>
        </div>
      </div>
      <p className="hint">Each time a staff member opens a space they are not a member of in an emergency. Every read under it is in the audit trail
        (reason “break-the-glass”). Review each one once it is over.</p>
      {error && <p className="error" role="alert">{error}</p>}
      {done && <p className="success" role="status">{done}</p>}
      {grants === null && !error && <p className="muted">Loading…</p>}
      {grants && grants.length === 0 && (
        <p className="muted">{state === 'active' ? 'No emergency access is open now.' : state === 'unreviewed' ? 'Nothing is waiting for review.' : 'Nobody has used emergency access.'}</p>
      )}
      {grants && grants.length > 0 && (
        <div className="table-scroll">
          <table className="data-table grants-table">
            <thead>
              <tr>
                <th scope="col">Who</th><th scope="col">Space</th><th scope="col">Reason</th><th scope="col">Started</th>
                <th scope="col">Ends or ended</th><th scope="col">Review</th><th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {grants.map((g) => (
                <tr key={g.id} data-grant-id={g.id} className={g.active ? 'grant-active' : undefined}>
                  <td><strong>{g.user.display_name}</strong><div className="muted small grant-username">@{g.user.username}</div></td>
                  <td>{spaceTitle(g.space, me.id)}</td>
                  <td className="grant-reason">{g.reason}</td>
                  <td><time dateTime={new Date(g.started_at).toISOString()} title={fullTime(g.started_at)}>{shortTime(g.started_at)}</time></td>
                  <td>{g.active ? <span className="pill warn">{endText(g, me.id)}</span> : endText(g, me.id)}</td>
                  <td>{g.review
                    ? <>
                      <span className={`pill ${g.review.outcome === 'justified' ? 'good' : 'bad'}`}>{g.review.outcome === 'justified' ? 'Justified' : 'Unjustified'}</span>
                      <div className="small">{g.review.by ? `by ${g.review.by.display_name}, ` : ''}{shortTime(g.review.at)}</div>
                      {g.review.note && <div className="small">{g.review.note}</div>}
                    </>
                    : !g.active && <span className="muted">Awaiting review</span>}
                  </td>
                  <td className="grant-actions">
                    {g.active && (
                      <button type="button" className="secondary danger small" aria-label={`Revoke ${g.user.display_name}'s emergency access to ${g.space.name}`}
                        onClick={() => { setRevoking(g); setRevokeError(''); setDone(''); }}>Revoke</button>
                    )}
                    {!g.active && !g.review && (
                      <button type="button" className="primary small" aria-label={`Review ${g.user.display_name}'s emergency access to ${g.space.name}`}
                        onClick={() => { setReviewing(g); setDone(''); }}>Review</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <button type="button" className="secondary" onClick={() => void more()}>Show more</button>}
      {revoking && (
        <Confirm title={`Revoke ${revoking.user.display_name}'s emergency access?`} confirmLabel="Revoke" error={revokeError}
          text={`${revoking.user.display_name} stops being able to read ${spaceTitle(revoking.space, me.id)} at once and is told. Revoking is recorded in the audit trail.`}
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            try {
              await Emergency.end(revoking.id);
              setDone(`Revoked ${revoking.user.display_name}'s emergency access to ${revoking.space.name}.`);
              setRevoking(null);
              load();
            } catch (e) {
              if (e instanceof ApiError && e.code === 'grant_ended') { setRevoking(null); load(); } else setRevokeError(errorText(e));
            }
          }} />
      )}
      {reviewing && (
        <ReviewDialog grant={reviewing} onClose={() => setReviewing(null)}
          onReviewed={(g) => {
            setReviewing(null);
            const redacted = redactedText(g.note_redacted, 'note');
            setDone(`Reviewed ${g.user.display_name}'s emergency access to ${g.space.name}: ${g.review?.outcome ?? 'done'}.${redacted ? ` ${redacted}` : ''}`);
            load();
          }} />
      )}
    </div>
  );
}

/** The outcome of a grant's review; a note is required when it was not justified. */
export function ReviewDialog({ grant, onClose, onReviewed }: { grant: EmergencyGrant; onClose: () => void; onReviewed: (g: EmergencyGrant) => void }) {
  const { me } = useApp();
  const id = useId();
  const [outcome, setOutcome] = useState<ReviewOutcome>('justified');
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<{ outcome?: string; note?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const noteRequired = outcome === 'unjustified';
  // Focus goes to what was refused, so its message is read out with it.
  useEffect(() => {
    if (errors.note) document.getElementById(`${id}-note`)?.focus();
    else if (errors.outcome) document.querySelector<HTMLInputElement>(`input[name="${id}-outcome"]:checked`)?.focus();
  }, [errors, id]);
  return (
    <Dialog title={`Review ${grant.user.display_name}'s emergency access`} onClose={onClose}>
      <form className="stack" noValidate onSubmit={async (e) => {
        e.preventDefault();
        if (busy) return;
        if (noteRequired && !note.trim()) {
          setErrors({ note: 'Say why it was not justified: the note is kept with the review.' });
          return;
        }
        setBusy(true);
        setErrors({});
        try {
          onReviewed(await Emergency.review(grant.id, outcome, note.trim()));
        } catch (err) {
          const field = problemField(err);
          setErrors(field === 'note' || field === 'outcome' ? { [field]: errorText(err) } : { form: errorText(err) });
          setBusy(false);
        }
      }}>
        <dl className="grant-summary">
          <div><dt>Space</dt><dd>{spaceTitle(grant.space, me.id)}</dd></div>
          <div><dt>Reason given</dt><dd>{grant.reason}</dd></div>
          <div><dt>When</dt><dd>{fullTime(grant.started_at)} · {endText(grant, me.id)}</dd></div>
        </dl>
        <fieldset className="choice-list" aria-describedby={errors.outcome ? `${id}-outcome-error` : undefined}>
          <legend>Outcome</legend>
          <label className="choice">
            <input type="radio" name={`${id}-outcome`} value="justified" checked={outcome === 'justified'} onChange={() => setOutcome('justified')} />
            <span><strong>Justified</strong> <span className="muted">The reason and what was read fit an emergency.</span></span>
          </label>
          <label className="choice">
            <input type="radio" name={`${id}-outcome`} value="unjustified" checked={outcome === 'unjustified'} onChange={() => setOutcome('unjustified')} />
            <span><strong>Unjustified</strong> <span className="muted">It was not an emergency, or more was read than it needed.</span></span>
          </label>
        </fieldset>
        {errors.outcome && <p className="error field-error" id={`${id}-outcome-error`}>{errors.outcome}</p>}
        <label htmlFor={`${id}-note`}>Note{noteRequired ? '' : <span className="muted"> (optional)</span>}</label>
        <textarea id={`${id}-note`} rows={3} value={note} maxLength={2000} required={noteRequired} onChange={(e) => setNote(e.target.value)}
          aria-invalid={errors.note ? true : undefined} aria-describedby={errors.note ? `${id}-note-error` : undefined} />
        {errors.note && <p className="error field-error" id={`${id}-note-error`}>{errors.note}</p>}
        {errors.form && <p className="error" role="alert">{errors.form}</p>}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Saving…' : 'Save review'}</button>
        </div>
      </form>
    </Dialog>
  );
}
