import { useEffect, useState } from 'react';
import { Api, errorText, type User } from '../api';
import { href } from '../lib/route';
import { useApp } from '../state';
import Avatar from '../components/Avatar';
import { Confirm } from '../components/Dialog';
import { useDepartments } from '../lib/useDepartments';

export default function PersonPage({ id }: { id: number }) {
  const { me, online, addSpace } = useApp();
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
          <p className="muted">@{user.username}{online.has(user.id) ? ' · online now' : ''}{user.disabled ? ' · account disabled' : ''}</p>
        </div>
      </div>
      <dl className="facts">
        <dt>Job role</dt><dd>{user.job_role || '—'}</dd>
        <dt>Department</dt><dd>{depts.length ? depts.join(', ') : '—'}</dd>
        <dt>E-mail</dt><dd>{user.email ? <a href={`mailto:${user.email}`}>{user.email}</a> : '—'}</dd>
      </dl>
      {user.id === me.id
        ? <p><a href={href.profile()}>Edit your profile</a></p>
        : !user.disabled && (
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
      {me.is_admin && user.id !== me.id && <ResetTwoStep user={user} />}
      <p><a href={href.people()}>Back to people</a></p>
    </section>
  );
}

/** Administrators: takes two-step sign-in off someone's account, for a lost phone and lost codes. */
function ResetTwoStep({ user }: { user: User }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  return (
    <section className="card stack" aria-labelledby="person-mfa">
      <h2 id="person-mfa">Two-step sign-in</h2>
      <p className="hint" id="person-mfa-why">If {user.display_name} lost the phone with their authenticator app and their
        recovery codes, resetting lets them sign in with their password alone and set it up again.
        Check who is asking before you do this.</p>
      {done && <p className="success" role="status">Two-step sign-in was reset for {user.display_name}. They were signed out everywhere.</p>}
      <p>
        <button type="button" className="secondary danger" aria-describedby="person-mfa-why"
          onClick={() => { setDone(false); setError(''); setAsking(true); }}>Reset two-step sign-in</button>
      </p>
      {asking && (
        <Confirm title="Reset two-step sign-in?" confirmLabel="Reset" error={error}
          text={`${user.display_name} will be signed out everywhere and can then sign in with their password alone until they set up two-step sign-in again.`}
          onClose={() => { setAsking(false); setError(''); }}
          onConfirm={async () => {
            try {
              await Api.resetMfa(user.id);
              setAsking(false);
              setDone(true);
            } catch (e) { setError(errorText(e)); }
          }} />
      )}
    </section>
  );
}
