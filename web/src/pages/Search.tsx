// Full-text search over everything I may read: messages (snippets with highlighted matches),
// people and spaces.
import { useEffect, useState } from 'react';
import { Api, errorText, type SearchHit, type SearchResult } from '../api';
import { shortTime } from '../lib/format';
import { go, href } from '../lib/route';
import Avatar from '../components/Avatar';
import Snippet from '../components/Snippet';

export default function SearchPage({ q }: { q: string }) {
  const [text, setText] = useState(q);
  const [result, setResult] = useState<SearchResult | null>(null);
  const [more, setMore] = useState<SearchHit[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!q.trim()) return;
    let cancelled = false;
    setBusy(true);
    Api.search(q)
      .then((r) => { if (!cancelled) { setResult(r); setCursor(r.next_cursor); setMore([]); } })
      .catch((e) => { if (!cancelled) setError(errorText(e)); })
      .finally(() => { if (!cancelled) setBusy(false); });
    return () => { cancelled = true; };
  }, [q]);

  const hits = result ? [...result.messages, ...more] : [];
  return (
    <section className="page search-page">
      <h1 tabIndex={-1}>Search</h1>
      <form role="search" className="search-page-form" onSubmit={(e) => { e.preventDefault(); if (text.trim()) go(href.search(text.trim())); }}>
        <label htmlFor="search-page-q" className="visually-hidden">Search for</label>
        <input id="search-page-q" type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="Words, a name, a space" />
        <button type="submit" className="primary">Search</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {!q && <p className="muted">Search finds messages in spaces you can read, people, and spaces.</p>}
      {busy && <p className="muted" aria-live="polite">Searching…</p>}
      {result && (
        <div className="search-results">
          <section aria-labelledby="res-messages">
            <h2 id="res-messages">Messages <span className="muted">({hits.length}{cursor ? '+' : ''})</span></h2>
            {hits.length === 0 ? <p>No messages match “{q}”.</p> : (
              <ul className="results">
                {hits.map((hit) => (
                  <li key={hit.message.id} className="search-hit">
                    <a className="hit-link" href={href.space(hit.space.id, hit.message.id)}>
                      <span className="hit-where">{hit.space.kind === 'channel' ? `# ${hit.space.name}` : hit.space.kind === 'direct' ? 'Direct message' : hit.space.name}</span>
                      <span className="muted"> · {hit.message.author.display_name} · {shortTime(hit.message.created_at)}</span>
                    </a>
                    <p className="hit-snippet"><Snippet text={hit.snippet} /></p>
                  </li>
                ))}
              </ul>
            )}
            {cursor && (
              <button type="button" className="secondary" onClick={async () => {
                try {
                  const r = await Api.search(q, cursor);
                  setMore((m) => [...m, ...r.messages]);
                  setCursor(r.next_cursor);
                } catch (e) { setError(errorText(e)); }
              }}>More messages</button>
            )}
          </section>
          <section aria-labelledby="res-people">
            <h2 id="res-people">People</h2>
            {result.people.length === 0 ? <p>No people match.</p> : (
              <ul className="people-grid">
                {result.people.map((p) => (
                  <li key={p.id} className="person-card">
                    <Avatar id={p.id} name={p.display_name} />
                    <span><a href={href.person(p.id)}>{p.display_name}</a><span className="muted small">{p.job_role}</span></span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="res-spaces">
            <h2 id="res-spaces">Spaces</h2>
            {result.spaces.length === 0 ? <p>No spaces match.</p> : (
              <ul className="results">
                {result.spaces.map((s) => (
                  <li key={s.id}><a href={href.space(s.id)}>{s.kind === 'channel' ? `# ${s.name}` : s.name}</a> <span className="muted">{s.kind} · {s.member_count} members</span>{s.topic && <p className="excerpt">{s.topic}</p>}</li>
                ))}
              </ul>
            )}
          </section>
        </div>
      )}
    </section>
  );
}
