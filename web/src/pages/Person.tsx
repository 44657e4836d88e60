import { useEffect, useState } from 'react';
import { Api, errorText, type User } from '../api';
import { href } from '../lib/route';
import { useApp } from '../state';
import Avatar from '../components/Avatar';
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
      <p><a href={href.people()}>Back to people</a></p>
    </section>
  );
}
