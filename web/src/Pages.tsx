// Search, people directory, profile, mentions and community discovery.
import { useEffect, useState } from 'react';
import { api, errorText, type Department, type Message, type Page, type SearchResult, type Space, type User } from './api';
import { Snippet } from './Markdown';

export function SearchView({ q }: { q: string }) {
  const [result, setResult] = useState<SearchResult | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!q) return;
    setResult(null);
    api<SearchResult>('GET', `/api/v1/search?q=${encodeURIComponent(q)}`).then(setResult).catch((e) => setError(errorText(e)));
  }, [q]);
  return (
    <section className="page">
      <h1>Search{q && <>: “{q}”</>}</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {!q && <p>Type in the search box above.</p>}
      {result && (
        <>
          <h2>Messages</h2>
          {result.messages.length === 0 ? <p>No messages found.</p> : (
            <ul className="results">
              {result.messages.map((hit) => (
                <li key={hit.message.id} className="search-hit">
                  <a href={`#/space/${hit.space.id}`}>{hit.space.name || 'Direct message'}</a> · {hit.message.author.display_name}
                  <p><Snippet text={hit.snippet} /></p>
                </li>
              ))}
            </ul>
          )}
          <h2>People</h2>
          {result.people.length === 0 ? <p>No people found.</p> : <ul>{result.people.map((p) => <li key={p.id}>{p.display_name} — {p.job_role}</li>)}</ul>}
          <h2>Spaces</h2>
          {result.spaces.length === 0 ? <p>No spaces found.</p> : <ul>{result.spaces.map((s) => <li key={s.id}><a href={`#/space/${s.id}`}>{s.name}</a></li>)}</ul>}
        </>
      )}
    </section>
  );
}

export function PeopleView({ me }: { me: User }) {
  const [q, setQ] = useState('');
  const [role, setRole] = useState('');
  const [department, setDepartment] = useState('');
  const [departments, setDepartments] = useState<Department[]>([]);
  const [people, setPeople] = useState<User[]>([]);
  const [error, setError] = useState('');
  useEffect(() => { api<{ items: Department[] }>('GET', '/api/v1/departments').then((r) => setDepartments(r.items)).catch(() => {}); }, []);
  useEffect(() => {
    const params = new URLSearchParams({ limit: '100' });
    if (q) params.set('q', q);
    if (role) params.set('job_role', role);
    if (department) params.set('department_id', department);
    api<Page<User>>('GET', `/api/v1/users?${params}`).then((r) => setPeople(r.items)).catch((e) => setError(errorText(e)));
  }, [q, role, department]);
  const startDm = async (user: User) => {
    try {
      const space = await api<Space>('POST', '/api/v1/direct', { user_ids: [user.id] });
      location.hash = `#/space/${space.id}`;
    } catch (e) { setError(errorText(e)); }
  };
  const deptName = (id: number) => departments.find((d) => d.id === id)?.name ?? '';
  return (
    <section className="page">
      <h1>People</h1>
      <div className="filters">
        <label htmlFor="people-q">Name</label>
        <input id="people-q" value={q} onChange={(e) => setQ(e.target.value)} />
        <label htmlFor="people-role">Job role</label>
        <input id="people-role" value={role} onChange={(e) => setRole(e.target.value)} />
        <label htmlFor="people-dept">Department</label>
        <select id="people-dept" value={department} onChange={(e) => setDepartment(e.target.value)}>
          <option value="">Any</option>
          {departments.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
        </select>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <ul className="people">
        {people.map((p) => (
          <li key={p.id}>
            <strong>{p.display_name}</strong> <span className="meta">@{p.username} · {p.job_role} · {p.department_ids.map(deptName).join(', ')}</span>
            {p.id !== me.id && <button onClick={() => startDm(p)}>Message</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ProfileView({ me, onUpdated }: { me: User; onUpdated: (u: User) => void }) {
  const [name, setName] = useState(me.display_name);
  const [email, setEmail] = useState(me.email);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  return (
    <section className="page">
      <h1>Your profile</h1>
      <p className="meta">@{me.username} · {me.job_role}</p>
      <form onSubmit={async (e) => {
        e.preventDefault();
        setError(''); setMessage('');
        try { onUpdated(await api<User>('PATCH', '/api/v1/me', { display_name: name, email })); setMessage('Profile saved.'); } catch (err) { setError(errorText(err)); }
      }}>
        <label htmlFor="profile-name">Display name</label>
        <input id="profile-name" value={name} onChange={(e) => setName(e.target.value)} required />
        <label htmlFor="profile-email">E-mail</label>
        <input id="profile-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit">Save profile</button>
      </form>
      <form onSubmit={async (e) => {
        e.preventDefault();
        setError(''); setMessage('');
        try { await api('POST', '/api/v1/me/password', { current_password: current, new_password: next }); setCurrent(''); setNext(''); setMessage('Password changed. Your other sessions were signed out.'); } catch (err) { setError(errorText(err)); }
      }}>
        <h2>Change password</h2>
        <label htmlFor="pw-current">Current password</label>
        <input id="pw-current" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
        <label htmlFor="pw-new">New password (at least 12 characters)</label>
        <input id="pw-new" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required minLength={12} />
        <button type="submit">Change password</button>
      </form>
      {message && <p role="status">{message}</p>}
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}

export function MentionsView() {
  const [items, setItems] = useState<{ message: Message; space: { id: number; name: string } }[]>([]);
  const [error, setError] = useState('');
  useEffect(() => { api<Page<{ message: Message; space: { id: number; name: string } }>>('GET', '/api/v1/me/mentions').then((r) => setItems(r.items)).catch((e) => setError(errorText(e))); }, []);
  return (
    <section className="page">
      <h1>Mentions</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {items.length === 0 ? <p>Nobody has mentioned you yet.</p> : (
        <ul className="results">
          {items.map(({ message, space }) => (
            <li key={message.id}><a href={`#/space/${space.id}`}>{space.name || 'Direct message'}</a> · {message.author.display_name}: {message.body.slice(0, 140)}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function DiscoverView({ onJoined }: { onJoined: () => void }) {
  const [q, setQ] = useState('');
  const [spaces, setSpaces] = useState<Space[]>([]);
  const [error, setError] = useState('');
  const [name, setName] = useState('');
  const [kind, setKind] = useState('community');
  const [visibility, setVisibility] = useState('public');
  const load = () => api<Page<Space>>('GET', `/api/v1/spaces?scope=discover&q=${encodeURIComponent(q)}`).then((r) => setSpaces(r.items)).catch((e) => setError(errorText(e)));
  useEffect(() => { load(); }, [q]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <section className="page">
      <h1>Discover</h1>
      <label htmlFor="discover-q">Find communities and channels</label>
      <input id="discover-q" value={q} onChange={(e) => setQ(e.target.value)} />
      {error && <p className="error" role="alert">{error}</p>}
      <ul className="discover">
        {spaces.map((s) => (
          <li key={s.id}>
            <a href={`#/space/${s.id}`}><strong>{s.name}</strong></a> <span className="meta">{s.kind} · {s.member_count} members</span>
            <p>{s.topic}</p>
            <button onClick={async () => { try { await api('POST', `/api/v1/spaces/${s.id}/join`); onJoined(); load(); } catch (e) { setError(errorText(e)); } }}>Join</button>
          </li>
        ))}
      </ul>
      <form onSubmit={async (e) => {
        e.preventDefault();
        try {
          const s = await api<Space>('POST', '/api/v1/spaces', { kind, name, visibility });
          onJoined();
          location.hash = `#/space/${s.id}`;
        } catch (err) { setError(errorText(err)); }
      }}>
        <h2>Create a space</h2>
        <label htmlFor="new-name">Name</label>
        <input id="new-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} />
        <label htmlFor="new-kind">Kind</label>
        <select id="new-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="community">Community (feed of posts)</option>
          <option value="channel">Channel (chat)</option>
        </select>
        <label htmlFor="new-visibility">Visibility</label>
        <select id="new-visibility" value={visibility} onChange={(e) => setVisibility(e.target.value)}>
          <option value="public">Public</option>
          <option value="private">Private (invitation only)</option>
        </select>
        <button type="submit">Create</button>
      </form>
    </section>
  );
}
