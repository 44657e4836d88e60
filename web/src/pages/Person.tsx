import { useEffect, useState } from 'react';
import { Api, errorText, type User } from '../api';
import { href } from '../lib/route';
import { useApp } from '../state';
import Avatar from '../components/Avatar';
import { Confirm } from '../components/Dialog';
import { useDepartments } from '../lib/useDepartments';

export default function PersonPage({ id }: { id: number }) {
  const { me, online, addSpace, administering, openElevate } = useApp();
  const departments = useDepartments();
  const [user, setUser] = useState<User | null>(null);
  const [error, setError] = useState('');
  useEffect(() => { Api.user(id).then(setUser).catch((e) => setError(errorText(e))); }, [id]);
  if (error) return <section className="page"><h1 tabIndex={-1}>Person not found</h1><p className="error" role="alert">{error}</p><p><a href={href.people()}>Back to people</a></p></section>;
  if (!user) return <p className="muted">Loading…</p>;
  const depts = user.department_ids.map((d) => departments.find((x) => x.id === d)?.name).filter(Boolean);
  return (
    <section className="page person-page">
      <div className="person-hero">
        <Avatar id={user.id} name={user.display_name} size="lg" online={online.has(user.id)} />
        <div>
          <h1 tabIndex={-1}>{user.display_name}</h1>
          <p className="muted">@{user.username}{online.has(user.id) ? ' · online now' : ''}{user.is_guest ? ' · guest from outside the organization' : ''}{user.disabled ? ' · account disabled' : ''}</p>
        </div>
      </div>
      <dl className="facts">
        <dt>Job role</dt><dd>{user.job_role || '—'}</dd>
        <dt>Department</dt><dd>{depts.length ? depts.join(', ') : '—'}</dd>
        <dt>E-mail</dt><dd>{user.email ? <a href={`mailto:${user.email}`}>{user.email}</a> : '—'}</dd>
      </dl>
      {user.id === me.id
        ? <p><a href={href.profile()}>Edit your profile</a></p>
        : !user.disabled && !user.is_guest && (
          <p>
            <button type="button" className="primary" onClick={async () => {
              try {
                const s = await Api.direct([user.id]);
                addSpace(s);
                location.hash = href.space(s.id);
              } catch (e) { setError(errorText(e)); }
            }}>Send a message</button>
          </p>
        )}
      {me.is_admin && user.id !== me.id && (administering ? <AdminActions user={user} /> : (
        <section className="card stack" aria-labelledby="person-administer">
          <h2 id="person-administer">Manage this account</h2>
          <p className="hint">Signing {user.display_name} out everywhere or resetting their two-step sign-in is administration: confirm your password first.</p>
          <p><button type="button" className="secondary" onClick={openElevate}>Administer</button></p>
        </section>
      ))}
      <p><a href={href.people()}>Back to people</a></p>
    </section>
  );
}

/** An administrator's action on someone's account: why, a button, a confirmation, the outcome. */
function AdminAction({ id, title, why, button, confirmTitle, confirmText, confirmLabel, run }: {
  id: string; title: string; why: string; button: string; confirmTitle: string; confirmText: string;
  confirmLabel: string; run: () => Promise<string>;
}) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  return (
    <section className="card stack" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <p className="hint" id={`${id}-why`}>{why}</p>
      {done && <p className="success" role="status">{done}</p>}
      <p>
        <button type="button" className="secondary danger" aria-describedby={`${id}-why`}
          onClick={() => { setDone(''); setError(''); setAsking(true); }}>{button}</button>
      </p>
      {asking && (
        <Confirm title={confirmTitle} confirmLabel={confirmLabel} error={error} text={confirmText}
          onClose={() => { setAsking(false); setError(''); }}
          onConfirm={async () => {
            try {
              const outcome = await run();
              setAsking(false);
              setDone(outcome);
            } catch (e) { setError(errorText(e)); }
          }} />
      )}
    </section>
  );
}

/** Administrators: signs someone out everywhere, and takes two-step sign-in off their account. */
function AdminActions({ user }: { user: User }) {
  const name = user.display_name;
  return (
    <>
      <AdminAction id="person-sessions" title="Sessions"
        why={`Signs ${name} out on every device at once (a lost or shared device), without disabling the account.`}
        button="End all sessions" confirmTitle={`End all of ${name}'s sessions?`} confirmLabel="End all sessions"
        confirmText={`${name} will have to sign in again on every device.`}
        run={async () => {
          const { ended } = await Api.endUserSessions(user.id);
          return `${name} was signed out of ${ended} ${ended === 1 ? 'session' : 'sessions'}.`;
        }} />
      <AdminAction id="person-mfa" title="Two-step sign-in"
        why={`If ${name} lost the phone with their authenticator app and their recovery codes, resetting lets them sign in with their password alone and set it up again. Check who is asking before you do this.`}
        button="Reset two-step sign-in" confirmTitle="Reset two-step sign-in?" confirmLabel="Reset"
        confirmText={`${name} will be signed out everywhere and can then sign in with their password alone until they set up two-step sign-in again.`}
        run={async () => {
          await Api.resetMfa(user.id);
          return `Two-step sign-in was reset for ${name}. They were signed out everywhere.`;
        }} />
    </>
  );
}
