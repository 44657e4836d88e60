// Emergency access for staff: find a space with patient information you are not a member of,
// give a reason and your password (and a code with two-step sign-in), and read it for a while.
// Below, your own emergency access: the open ones to go back to or end, the past ones with how
// they ended and what the privacy office decided.
import { useCallback, useEffect, useId, useState } from 'react';
import { Api, ApiError, errorText, problemField } from '../api';
import { DURATIONS, Emergency, REASON_MAX, type EligibleSpace, type EmergencyGrant } from '../emergencyApi';
import { endText, reasonProblem, redactedText, reviewText } from '../lib/emergency';
import { shortTime, spaceTitle, timeOfDay } from '../lib/format';
import { parseCode } from '../lib/mfa';
import { useLatestOnly } from '../lib/latest';
import { go, href } from '../lib/route';
import { useApp, useFrames } from '../state';
import Dialog from '../components/Dialog';
import { STEP_UP_FIELD_OF_CODE, StepUpFields } from '../components/StepUpFields';

export default function EmergencyPage() {
  const { me } = useApp();
  return (
    <section className="page emergency-page">
      <h1 tabIndex={-1}>Emergency access</h1>
      {me.kind === 'staff' ? <Emergencies /> : <p className="notice">Emergency access is for staff accounts.</p>}
    </section>
  );
}

function Emergencies() {
  const { me, toast } = useApp();
  const [chosen, setChosen] = useState<EligibleSpace | null>(null);
  // Whether the account has two-step sign-in (the code field shows only then): /me says so.
  const [twoStep, setTwoStep] = useState(false);
  const [grants, setGrants] = useState<EmergencyGrant[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const latest = useLatestOnly();

  useEffect(() => { Api.me().then((s) => setTwoStep(!!s.mfa?.enabled)).catch(() => {}); }, []);
  const load = useCallback(() => {
    latest(Emergency.grants('mine'), (p) => { setGrants(p.items); setCursor(p.next_cursor); setError(''); }, (e) => setError(errorText(e)));
  }, [latest]);
  useEffect(load, [load]);
  // One of mine ended elsewhere (another tab, by running out, revoked): the list follows.
  useFrames((f) => {
    if (f.type === 'user' && (f.event === 'emergency.started' || f.event === 'emergency.ended') && f.data.user.id === me.id) load();
  });

  const active = grants?.filter((g) => g.active) ?? [];
  const past = grants?.filter((g) => !g.active) ?? [];
  const openFor = new Map(active.map((g) => [g.space.id, g]));

  return (
    <>
      <p className="lead">When a patient's care cannot wait, you can read a channel or community with patient information that you are not
        a member of, for up to an hour. You can read it but not post, react or join.</p>
      <FindSpace openFor={openFor} onChoose={setChosen} />
      <section className="card" aria-labelledby="emergency-mine">
        <h2 id="emergency-mine">Your emergency access</h2>
        {error && <p className="error" role="alert">{error}</p>}
        {grants === null && !error && <p className="muted">Loading…</p>}
        {grants && grants.length === 0 && <p className="muted">You have not used emergency access.</p>}
        {active.length > 0 && (
          <>
            <h3>Open now</h3>
            <ul className="grant-list" aria-label="Open now">
              {active.map((g) => <MyGrant key={g.id} g={g} onEnded={load} />)}
            </ul>
          </>
        )}
        {past.length > 0 && (
          <>
            <h3>Past</h3>
            <ul className="grant-list" aria-label="Past">
              {past.map((g) => <MyGrant key={g.id} g={g} onEnded={load} />)}
            </ul>
          </>
        )}
        {cursor && (
          <button type="button" className="secondary small" onClick={async () => {
            try {
              const p = await Emergency.grants('mine', 'all', cursor);
              setGrants((l) => [...(l ?? []), ...p.items.filter((g) => !l?.some((x) => x.id === g.id))]);
              setCursor(p.next_cursor);
            } catch (e) { setError(errorText(e)); }
          }}>Show more</button>
        )}
      </section>
      {chosen && (
        <EmergencyForm space={chosen} twoStep={twoStep} onClose={() => setChosen(null)}
          onOpened={(g) => {
            setChosen(null);
            const redacted = redactedText(g.reason_redacted, 'reason');
            if (redacted) toast({ text: redacted });
            go(href.space(g.space.id));
          }} />
      )}
    </>
  );
}

function FindSpace({ openFor, onChoose }: { openFor: ReadonlyMap<number, EmergencyGrant>; onChoose: (s: EligibleSpace) => void }) {
  const { me } = useApp();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<EligibleSpace[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const ctrl = new AbortController();
    const timer = window.setTimeout(() => {
      Emergency.spaces(q.trim(), ctrl.signal)
        .then((p) => { setFound(p.items); setError(''); })
        .catch((e) => { const t = errorText(e); if (t) setError(t); });
    }, 200);
    return () => { ctrl.abort(); window.clearTimeout(timer); };
  }, [q]);
  return (
    <section className="card" aria-labelledby="emergency-find">
      <h2 id="emergency-find">Find the space</h2>
      <label htmlFor="emergency-q">Space name</label>
      <input id="emergency-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Channel or community" autoComplete="off" />
      {error && <p className="error" role="alert">{error}</p>}
      <ul className="emergency-spaces" aria-label="Spaces you can open with emergency access">
        {(found ?? []).map((s) => {
          const open = openFor.get(s.id);
          const about = <span className="muted small">{s.kind} · {s.template}{open ? ` · open to you until ${timeOfDay(open.expires_at)}` : ''}</span>;
          return (
            <li key={s.id}>
              {open
                ? <a href={href.space(s.id)} className="emergency-space"><strong>{spaceTitle(s, me.id)}</strong> {about}</a>
                : <button type="button" className="emergency-space" onClick={() => onChoose(s)}><strong>{spaceTitle(s, me.id)}</strong> {about}</button>}
            </li>
          );
        })}
      </ul>
      {found && found.length === 0 && (
        <p className="muted">{q.trim() ? 'No space of that name holds patient information you cannot already read.' : 'There is no space with patient information that you cannot already read.'}</p>
      )}
    </section>
  );
}

function MyGrant({ g, onEnded }: { g: EmergencyGrant; onEnded: () => void }) {
  const { me } = useApp();
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const title = spaceTitle(g.space, me.id);
  const review = reviewText(g);
  return (
    <li className={`grant ${g.active ? 'grant-active' : ''}`}>
      <div className="grant-about">
        <p className="grant-title"><strong id={`${id}-space`}>{title}</strong> <span className="muted small">started {shortTime(g.started_at)}</span></p>
        <p className="grant-facts">{endText(g, me.id)}{review && <> · <span className={`review review-${g.review?.outcome ?? 'pending'}`}>{review}</span></>}</p>
        <p className="muted small grant-reason">{g.reason}</p>
        {error && <p className="error" role="alert">{error}</p>}
      </div>
      {g.active && (
        <div className="row">
          <a href={href.space(g.space.id)} className="button-link secondary small" aria-describedby={`${id}-space`}>Open</a>
          <button type="button" className="danger small" disabled={busy} aria-describedby={`${id}-space`} onClick={async () => {
            setBusy(true);
            setError('');
            try { await Emergency.end(g.id); onEnded(); } catch (e) {
              if (e instanceof ApiError && e.code === 'grant_ended') onEnded(); else setError(errorText(e));
            } finally { setBusy(false); }
          }}>{busy ? 'Ending…' : 'End now'}</button>
        </div>
      )}
    </li>
  );
}

type Field = 'reason' | 'minutes' | 'password' | 'code' | 'form';
const FIELDS: readonly Field[] = ['reason', 'minutes', 'password', 'code'];

function fieldOf(e: unknown): Field {
  const path = problemField(e);
  const named = FIELDS.find((f) => f === path);
  if (named) return named;
  return (e instanceof ApiError && STEP_UP_FIELD_OF_CODE[e.code]) || 'form';
}

/** The reason, how long, and the password (and code) that open a space with emergency access. */
export function EmergencyForm({ space, twoStep, onClose, onOpened }: {
  space: EligibleSpace; twoStep: boolean; onClose: () => void; onOpened: (g: EmergencyGrant) => void;
}) {
  const { me } = useApp();
  const id = useId();
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState<number>(60);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  // The server may ask for a code this screen did not know the account needs.
  const [codeAsked, setCodeAsked] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [busy, setBusy] = useState(false);
  const withCode = twoStep || codeAsked;

  // Focus goes to the first field refused, so its message is read out with it.
  useEffect(() => {
    const first = FIELDS.find((f) => errors[f]);
    if (first) document.getElementById(`${id}-${first}`)?.focus();
  }, [errors, id]);

  const described = (f: Field, hint?: string) => [hint, errors[f] ? `${id}-${f}-error` : ''].filter(Boolean).join(' ') || undefined;
  const fieldError = (f: Field) => errors[f] && <p className="error field-error" id={`${id}-${f}-error`}>{errors[f]}</p>;

  const submit = async () => {
    if (busy) return;
    const problems: Partial<Record<Field, string>> = {};
    const badReason = reasonProblem(reason);
    if (badReason) problems.reason = badReason;
    if (!password) problems.password = 'Enter your password.';
    const typed = withCode ? parseCode(code) : null;
    if (withCode && !typed) problems.code = 'Enter the 6-digit code from your app, or one of your recovery codes.';
    if (Object.keys(problems).length > 0) { setErrors(problems); return; }
    setBusy(true);
    setErrors({});
    try {
      onOpened(await Emergency.open({ space_id: space.id, reason: reason.trim(), password, minutes, ...(typed ? { code: typed } : {}) }));
    } catch (e) {
      const field = fieldOf(e);
      if (e instanceof ApiError && e.code === 'code_required') setCodeAsked(true);
      // A wrong password or code is typed again, never sent twice by mistake.
      if (field === 'password') setPassword('');
      if (field === 'code') setCode('');
      setErrors({ [field]: errorText(e) });
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Emergency access to ${spaceTitle(space, me.id)}`} onClose={onClose}>
      <form className="stack emergency-form" noValidate onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <p className="emergency-warning" id={`${id}-warning`}>
          <strong>This is recorded, the privacy office is alerted at once, and every grant is reviewed.</strong>{' '}
          You can read this {space.kind} but not post in it, until the time runs out or you end it.
        </p>
        <label htmlFor={`${id}-reason`}>Reason</label>
        <textarea id={`${id}-reason`} rows={3} value={reason} maxLength={REASON_MAX} required autoFocus
          onChange={(e) => setReason(e.target.value)} aria-invalid={errors.reason ? true : undefined}
          aria-describedby={described('reason', `${id}-reason-hint`)} />
        <p className="hint" id={`${id}-reason-hint`}>Why it cannot wait, for example “Covering the unit tonight, patient deteriorating”. At least 10 characters.</p>
        {fieldError('reason')}
        <label htmlFor={`${id}-minutes`}>Duration</label>
        <select id={`${id}-minutes`} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}
          aria-invalid={errors.minutes ? true : undefined} aria-describedby={described('minutes')}>
          {DURATIONS.map((m) => <option key={m} value={m}>{m} minutes</option>)}
        </select>
        {fieldError('minutes')}
        <StepUpFields id={id} withCode={withCode} password={password} code={code} onPassword={setPassword} onCode={setCode}
          invalid={(f) => !!errors[f]} described={described} fieldError={fieldError} />
        {errors.form && <p className="error" role="alert">{errors.form}</p>}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className="danger" disabled={busy}>{busy ? 'Opening…' : 'Open with emergency access'}</button>
        </div>
      </form>
    </Dialog>
  );
}
