// Public communities and channels I am not in yet: search, preview, join, or create one.
import { useEffect, useState } from 'react';
import { Api, errorText, type Space } from '../api';
import { go, href } from '../lib/route';
import { plural } from '../lib/format';
import { useApp } from '../state';

export default function DiscoverPage() {
  const { addSpace, openCreateSpace } = useApp();
  const [q, setQ] = useState('');
  const [spaces, setSpaces] = useState<Space[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [joining, setJoining] = useState<number | null>(null);

  useEffect(() => {
    let cancelled = false;
    const timer = window.setTimeout(() => {
      Api.discover(q.trim())
        .then((p) => { if (!cancelled) { setSpaces(p.items); setCursor(p.next_cursor); } })
        .catch((e) => { if (!cancelled) setError(errorText(e)); });
    }, 200);
    return () => { cancelled = true; window.clearTimeout(timer); };
  }, [q]);

  const join = async (s: Space) => {
    setJoining(s.id);
    setError('');
    try {
      await Api.join(s.id);
      addSpace(await Api.space(s.id));
      go(href.space(s.id));
    } catch (e) { setError(errorText(e)); } finally { setJoining(null); }
  };

  return (
    <section className="page discover-page">
      <div className="page-head">
        <h1 tabIndex={-1}>Discover</h1>
        <div className="row">
          <button type="button" className="secondary" onClick={() => openCreateSpace('community')}>Create a community</button>
          <button type="button" className="secondary" onClick={() => openCreateSpace('channel')}>Create a channel</button>
        </div>
      </div>
      <label htmlFor="discover-q">Find communities and channels</label>
      <input id="discover-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Topic or name" />
      {error && <p className="error" role="alert">{error}</p>}
      {spaces === null && !error && <p className="muted">Loading…</p>}
      {spaces && spaces.length === 0 && <p>{q ? 'Nothing matches. Try another word, or create one.' : 'You are already in every public space.'}</p>}
      <ul className="discover-list">
        {spaces?.map((s) => (
          <li key={s.id} className="discover-card">
            <div>
              <a href={href.space(s.id)} className="discover-name">{s.kind === 'channel' ? `# ${s.name}` : s.name}</a>
              <span className="muted small"> {s.kind === 'channel' ? 'Channel' : 'Community'} · {plural(s.member_count, 'member')}</span>
              {s.topic && <p className="excerpt">{s.topic}</p>}
            </div>
            {s.join_policy === 'open'
              ? <button type="button" className="primary small" onClick={() => join(s)} disabled={joining === s.id} aria-label={`Join ${s.name}`}>{joining === s.id ? 'Joining…' : 'Join'}</button>
              : <span className="muted small">By invitation</span>}
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" className="secondary" onClick={async () => {
          try {
            const p = await Api.discover(q.trim(), cursor);
            setSpaces((l) => [...(l ?? []), ...p.items]);
            setCursor(p.next_cursor);
          } catch (e) { setError(errorText(e)); }
        }}>Show more</button>
      )}
    </section>
  );
}
