// The staff directory: filter by name, job role and department; message one person, or pick
// several for a group conversation.
import { useEffect, useMemo, useState } from 'react';
import { Api, errorText, type User } from '../api';
import { useDepartments } from '../lib/useDepartments';
import { href } from '../lib/route';
import { useApp } from '../state';
import Avatar from '../components/Avatar';

export default function PeoplePage() {
  const { me, online, openNewDirect, addSpace } = useApp();
  const departments = useDepartments();
  const [q, setQ] = useState('');
  const [role, setRole] = useState('');
  const [department, setDepartment] = useState('');
  const [people, setPeople] = useState<User[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [picked, setPicked] = useState<User[]>([]);
  const [roles, setRoles] = useState<string[]>([]);

  useEffect(() => {
    const ctrl = new AbortController();
    const timer = window.setTimeout(() => {
      Api.users({ q: q.trim(), job_role: role.trim(), department_id: department }, ctrl.signal)
        .then((p) => {
          setPeople(p.items);
          setCursor(p.next_cursor);
          setError('');
        })
        .catch((e) => { const t = errorText(e); if (t) setError(t); });
    }, 250);
    return () => { ctrl.abort(); window.clearTimeout(timer); };
  }, [q, role, department]);

  // The directory has no list of job roles: collect them from the first page of everyone.
  useEffect(() => {
    Api.users({ limit: 200 })
      .then((p) => setRoles([...new Set(p.items.map((u) => u.job_role).filter(Boolean))].sort((a, b) => a.localeCompare(b))))
      .catch(() => {});
  }, []);

  const deptName = useMemo(() => new Map(departments.map((d) => [d.id, d.name])), [departments]);
  const toggle = (u: User) => setPicked((l) => (l.some((x) => x.id === u.id) ? l.filter((x) => x.id !== u.id) : [...l, u]));

  return (
    <section className="page people-page">
      <h1 tabIndex={-1}>People</h1>
      <form className="filters" role="search" aria-label="Filter people" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor="people-q">Name</label>
          <input id="people-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Name or username" />
        </div>
        <div>
          <label htmlFor="people-role">Job role</label>
          <select id="people-role" value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">All job roles</option>
            {roles.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor="people-dept">Department</label>
          <select id="people-dept" value={department} onChange={(e) => setDepartment(e.target.value)}>
            <option value="">All departments</option>
            {departments.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>
        </div>
      </form>
      {picked.length > 0 && (
        <div className="selection-bar" role="region" aria-label="Selected people">
          <span>{picked.map((p) => p.display_name).join(', ')}</span>
          <button type="button" className="primary small" onClick={() => openNewDirect(picked)}>
            {picked.length === 1 ? 'Message' : `Message all ${picked.length}`}
          </button>
          <button type="button" className="secondary small" onClick={() => setPicked([])}>Clear</button>
        </div>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {people === null && !error && <p className="muted">Loading…</p>}
      {people && people.length === 0 && <p>Nobody matches these filters.</p>}
      <ul className="people-list">
        {people?.map((p) => (
          <li key={p.id} className="person-row">
            {p.id !== me.id
              ? <input type="checkbox" aria-label={`Select ${p.display_name}`} checked={picked.some((x) => x.id === p.id)} onChange={() => toggle(p)} disabled={!picked.some((x) => x.id === p.id) && picked.length >= 8} />
              : <span className="checkbox-spacer" />}
            <Avatar id={p.id} name={p.display_name} online={online.has(p.id)} />
            <span className="person-info">
              <a href={href.person(p.id)} className="person-name">{p.display_name}</a>
              <span className="muted small">@{p.username}{p.job_role ? ` · ${p.job_role}` : ''}{p.department_ids.length ? ` · ${p.department_ids.map((d) => deptName.get(d) ?? '').filter(Boolean).join(', ')}` : ''}</span>
            </span>
            {p.id !== me.id && (
              <button type="button" className="secondary small" aria-label={`Message ${p.display_name}`} onClick={async () => {
                try {
                  const s = await Api.direct([p.id]);
                  addSpace(s);
                  location.hash = href.space(s.id);
                } catch (e) { setError(errorText(e)); }
              }}>Message</button>
            )}
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" className="secondary" onClick={async () => {
          try {
            const page = await Api.users({ q: q.trim(), job_role: role.trim(), department_id: department, cursor });
            setPeople((l) => [...(l ?? []), ...page.items]);
            setCursor(page.next_cursor);
          } catch (e) { setError(errorText(e)); }
        }}>Show more people</button>
      )}
    </section>
  );
}
