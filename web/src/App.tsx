// The Rounds staff app: sign-in, sidebar of spaces with unread counts, community feeds, channel
// chat with threads, direct messages, search, people, profile and mentions, kept live over one
// WebSocket. Routes live in the URL hash (#/space/3, #/search?q=…), so reloads keep the place.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, errorText, onSignedOut, setCsrfToken, type Space, type User } from './api';
import { EventStream, type Frame, type Status } from './events';
import Login from './Login';
import SpaceView from './SpaceView';
import { MentionsView, PeopleView, ProfileView, SearchView, DiscoverView } from './Pages';

type Route = { page: 'home' } | { page: 'space'; id: number } | { page: 'search'; q: string } | { page: 'people' }
  | { page: 'profile' } | { page: 'mentions' } | { page: 'discover' };

function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const space = path.match(/^\/space\/(\d+)$/);
  if (space) return { page: 'space', id: Number(space[1]) };
  if (path === '/search') return { page: 'search', q: params.get('q') ?? '' };
  if (path === '/people') return { page: 'people' };
  if (path === '/profile') return { page: 'profile' };
  if (path === '/mentions') return { page: 'mentions' };
  if (path === '/discover') return { page: 'discover' };
  return { page: 'home' };
}

export const go = (hash: string) => { location.hash = hash; };

export type Listener = (frame: Frame) => void;

export default function App() {
  const [me, setMe] = useState<User | null>(null);
  const [checking, setChecking] = useState(true);
  const [spaces, setSpaces] = useState<Space[]>([]);
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));
  const [status, setStatus] = useState<Status>('connecting');
  const [menuOpen, setMenuOpen] = useState(false);
  const [error, setError] = useState('');
  const listeners = useRef(new Set<Listener>());
  const streamRef = useRef<EventStream | null>(null);

  const signOutLocally = useCallback(() => {
    streamRef.current?.stop();
    streamRef.current = null;
    setCsrfToken(null);
    setMe(null);
    setSpaces([]);
  }, []);

  useEffect(() => { onSignedOut(signOutLocally); }, [signOutLocally]);

  useEffect(() => {
    const onHash = () => { setRoute(parseRoute(location.hash)); setMenuOpen(false); };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // On load: an existing cookie session brings back the user and the CSRF token.
  useEffect(() => {
    api<{ user: User; csrf_token: string }>('GET', '/api/v1/me')
      .then((r) => { setCsrfToken(r.csrf_token); setMe(r.user); })
      .catch(() => {})
      .finally(() => setChecking(false));
  }, []);

  const loadSpaces = useCallback(async () => {
    try {
      const page = await api<{ items: Space[] }>('GET', '/api/v1/spaces');
      setSpaces(page.items);
      for (const s of page.items) streamRef.current?.track(s.id, s.last_seq);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) setError(errorText(e));
    }
  }, []);

  // Live updates: the sidebar reacts to every event; open views subscribe through listeners.
  useEffect(() => {
    if (!me) return;
    const stream = new EventStream((frame) => {
      if (frame.type === 'event') {
        setSpaces((list) => list.map((s) => {
          if (s.id !== frame.space_id) return s;
          const counted = frame.event === 'message.created' && frame.data.author_id !== me.id;
          return {
            ...s, last_seq: Math.max(s.last_seq, frame.seq),
            unread_count: s.unread_count + (counted ? 1 : 0),
            unread_mentions: s.unread_mentions + (counted && frame.data.mentions?.includes(me.id) ? 1 : 0),
          };
        }));
        if (frame.event === 'space.updated') loadSpaces();
      }
      if (frame.type === 'user') {
        if (frame.event === 'read.updated') {
          setSpaces((list) => list.map((s) => (s.id === frame.data.space_id ? { ...s, read_seq: frame.data.read_seq, unread_count: 0, unread_mentions: 0 } : s)));
        }
        if (frame.event === 'space.added' || frame.event === 'space.removed') loadSpaces();
      }
      for (const l of listeners.current) l(frame);
    }, setStatus);
    streamRef.current = stream;
    loadSpaces().then(() => stream.start());
    return () => stream.stop();
  }, [me, loadSpaces]);

  const subscribe = useCallback((l: Listener) => {
    listeners.current.add(l);
    return () => { listeners.current.delete(l); };
  }, []);

  const signOut = async () => {
    try { await api('POST', '/api/v1/auth/logout'); } catch { /* already gone */ }
    signOutLocally();
    go('#/');
  };

  const grouped = useMemo(() => ({
    community: spaces.filter((s) => s.kind === 'community'),
    channel: spaces.filter((s) => s.kind === 'channel'),
    direct: spaces.filter((s) => s.kind === 'direct'),
  }), [spaces]);

  if (checking) return <main className="center" aria-busy="true">Loading…</main>;
  if (!me) return <Login onSignedIn={(user, csrf) => { setCsrfToken(csrf); setMe(user); }} />;

  const spaceName = (s: Space) => s.kind === 'direct'
    ? (s.members ?? []).filter((m) => m.id !== me.id).map((m) => m.display_name).join(', ') || 'Just you'
    : s.kind === 'channel' ? `# ${s.name}` : s.name;

  const current = route.page === 'space' ? spaces.find((s) => s.id === route.id) : undefined;

  return (
    <div className={`shell ${menuOpen ? 'menu-open' : ''}`}>
      <header className="topbar">
        <button className="menu-button" aria-label="Menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>☰</button>
        <a className="brand" href="#/">Rounds</a>
        <form className="search-form" role="search" onSubmit={(e) => {
          e.preventDefault();
          const q = new FormData(e.currentTarget).get('q') as string;
          go(`#/search?q=${encodeURIComponent(q)}`);
        }}>
          <label htmlFor="global-search" className="visually-hidden">Search</label>
          <input id="global-search" name="q" type="search" placeholder="Search messages, people, spaces" />
        </form>
        <span className={`status status-${status}`} role="status" aria-live="polite">
          {status === 'live' ? 'Live' : status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
        </span>
        <a href="#/profile" className="me">{me.display_name}</a>
        <button onClick={signOut}>Sign out</button>
      </header>
      <nav className="sidebar" aria-label="Spaces">
        <ul className="nav-links">
          <li><a href="#/mentions">Mentions</a></li>
          <li><a href="#/people">People</a></li>
          <li><a href="#/discover">Discover communities</a></li>
        </ul>
        {(['community', 'channel', 'direct'] as const).map((kind) => (
          <section key={kind} aria-label={kind === 'community' ? 'Communities' : kind === 'channel' ? 'Channels' : 'Direct messages'}>
            <h2>{kind === 'community' ? 'Communities' : kind === 'channel' ? 'Channels' : 'Direct messages'}</h2>
            <ul>
              {grouped[kind].map((s) => (
                <li key={s.id}>
                  <a href={`#/space/${s.id}`} className={`space-link ${current?.id === s.id ? 'active' : ''} ${s.unread_count ? 'unread' : ''}`}
                     aria-current={current?.id === s.id ? 'page' : undefined} data-space-id={s.id}>
                    <span className="space-name">{spaceName(s)}</span>
                    {s.unread_mentions > 0 && <span className="badge mention" aria-label={`${s.unread_mentions} mentions`}>@{s.unread_mentions}</span>}
                    {s.unread_count > 0 && <span className="badge" aria-label={`${s.unread_count} unread`}>{s.unread_count}</span>}
                  </a>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </nav>
      <main className="content" id="main">
        {error && <p className="error" role="alert">{error}</p>}
        {route.page === 'home' && <Home spaces={spaces} />}
        {route.page === 'space' && (
          <SpaceView key={route.id} spaceId={route.id} me={me} subscribe={subscribe} stream={streamRef.current}
                     title={current ? spaceName(current) : undefined} onChanged={loadSpaces} />
        )}
        {route.page === 'search' && <SearchView q={route.q} />}
        {route.page === 'people' && <PeopleView me={me} />}
        {route.page === 'profile' && <ProfileView me={me} onUpdated={setMe} />}
        {route.page === 'mentions' && <MentionsView />}
        {route.page === 'discover' && <DiscoverView onJoined={loadSpaces} />}
      </main>
    </div>
  );
}

function Home({ spaces }: { spaces: Space[] }) {
  const unread = spaces.filter((s) => s.unread_count > 0);
  return (
    <section className="home">
      <h1>Welcome to Rounds</h1>
      <p>Communities across departments, channels for your teams, and direct messages — governed for healthcare.</p>
      {unread.length > 0 ? (
        <>
          <h2>Unread</h2>
          <ul>{unread.map((s) => <li key={s.id}><a href={`#/space/${s.id}`}>{s.name || 'Direct message'}</a> — {s.unread_count} new</li>)}</ul>
        </>
      ) : <p>You are all caught up.</p>}
      <p><a href="#/discover">Discover communities</a> or <a href="#/people">find a colleague</a>.</p>
    </section>
  );
}
