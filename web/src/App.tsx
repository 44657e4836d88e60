// The Rounds staff app. App decides between the sign-in screen, the set-up of two-step sign-in a
// policy requires before anything else, and a signed-in Shell; the Shell owns the sidebar's
// spaces, the single event stream of this tab, and the screen for the route.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Api, ApiError, onAdminElevationRequired, onMfaEnrollmentRequired, onUnauthenticated, setCsrfToken, type SessionInfo, type Space, type User } from './api';
import { EventStream, type Frame, type Status } from './events';
import { AdministeringContext, AppContext, type AppContextValue, type Listener, type Toast } from './state';
import { parseRoute, go, href, type Route } from './lib/route';
import { moderationText } from './lib/moderation';
import { memberIdIn, preview, spaceTitle, timeOfDay } from './lib/format';
import { attachmentNames } from './lib/attachments';
import { mergeFetchedSpaces, upsertSpace } from './lib/spaces';
import { wipeSessionMemory } from './lib/wipe';
import { leaveEmergencySpace } from './lib/emergency';
import Login from './pages/Login';
import EnrollTwoStep from './pages/EnrollTwoStep';
import Sidebar from './components/Sidebar';
import TopBar from './components/TopBar';
import ErrorBoundary from './components/ErrorBoundary';
import CreateSpaceDialog from './components/CreateSpaceDialog';
import NewDirectDialog from './components/NewDirectDialog';
import ElevateDialog from './components/ElevateDialog';
import SpaceView from './space/SpaceView';
import Home from './pages/Home';
import SearchPage from './pages/Search';
import PeoplePage from './pages/People';
import PersonPage from './pages/Person';
import ProfilePage from './pages/Profile';
import MentionsPage from './pages/Mentions';
import DiscoverPage from './pages/Discover';
import CompliancePage from './pages/compliance/Compliance';
import EmergencyPage from './pages/Emergency';
import Icon from './components/Icon';

// `enroll`: signed in, but a policy requires two-step sign-in and the account has none yet.
/** `admin`: whether the session administers already (a reload keeps it), by the server's clock. */
type Admin = { until: number; leftMs: number };
const NOT_ADMINISTERING: Admin = { until: 0, leftMs: 0 };
type Auth = { state: 'checking' } | { state: 'out'; notice?: string } | { state: 'enroll'; me: User } | { state: 'in'; me: User; admin?: Admin };

export default function App() {
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });

  const signedOut = useCallback((notice?: string) => {
    setCsrfToken(null);
    wipeSessionMemory();
    setAuth((a) => (a.state === 'in' || a.state === 'enroll' ? { state: 'out', notice } : a.state === 'checking' ? { state: 'out' } : a));
  }, []);

  // /me says whether the session may go on into the app or must set up two-step sign-in first.
  const enter = useCallback((s: SessionInfo) => {
    setCsrfToken(s.csrf_token);
    const admin = { until: s.session?.admin_elevated_until ?? 0, leftMs: s.session?.admin_elevation_left_ms ?? 0 };
    setAuth(s.mfa_enrollment_required ? { state: 'enroll', me: s.user } : { state: 'in', me: s.user, admin });
  }, []);
  // After sign-in or set-up. Should /me fail for a moment, the app opens anyway: a call refused
  // with 403 mfa_enrollment_required brings the set-up screen back.
  const reenter = useCallback((me: User) => {
    Api.me().then(enter).catch((e) => { if (!(e instanceof ApiError && e.status === 401)) setAuth({ state: 'in', me }); });
  }, [enter]);

  useEffect(() => {
    onUnauthenticated(() => signedOut('Your session has ended. Sign in again to continue.'));
    // A policy may start requiring two-step sign-in while a session is open.
    onMfaEnrollmentRequired(() => setAuth((a) => (a.state === 'in' ? { state: 'enroll', me: a.me } : a)));
    // A reload keeps the cookie session: /me gives back the user and the CSRF token.
    Api.me()
      .then(enter)
      .catch((e) => setAuth({ state: 'out', notice: e instanceof ApiError && e.status !== 401 ? e.message : undefined }));
  }, [enter, signedOut]);

  const signOut = async () => {
    try { await Api.logout(); } catch { /* the session may already be gone */ }
    if (location.hash !== '#/') history.replaceState(null, '', '#/');
    signedOut();
  };

  if (auth.state === 'checking') {
    return <main className="splash" aria-busy="true"><span className="brand-mark" aria-hidden="true">R</span><p>Loading Rounds…</p></main>;
  }
  if (auth.state === 'out') {
    // Sign-in answers with the user alone; /me adds whether a policy requires set-up first.
    return <Login notice={auth.notice} onSignedIn={(s: SessionInfo) => { setCsrfToken(s.csrf_token); setAuth({ state: 'checking' }); reenter(s.user); }} />;
  }
  if (auth.state === 'enroll') {
    return <EnrollTwoStep me={auth.me} onDone={() => reenter(auth.me)} onSignOut={signOut} />;
  }
  return (
    <Shell key={auth.me.id} initialMe={auth.me} initialAdmin={auth.admin ?? NOT_ADMINISTERING} onSignOut={signOut}
      onSessionEnded={() => signedOut('Your session has ended. Sign in again to continue.')} />
  );
}

function Shell({ initialMe, initialAdmin, onSignOut, onSessionEnded }: {
  initialMe: User; initialAdmin: Admin; onSignOut: () => void; onSessionEnded: () => void;
}) {
  const [me, setMe] = useState(initialMe);
  // Administration: its end by the server's clock (to show) and by this device's (to count down:
  // the server said how long was left, so a device clock that is off does not matter).
  const [admin, setAdmin] = useState(() => ({ until: initialAdmin.until, deadline: initialAdmin.leftMs > 0 ? Date.now() + initialAdmin.leftMs : 0 }));
  const [elevating, setElevating] = useState(false);
  const [spaces, setSpaces] = useState<Space[]>([]);
  const [spacesLoaded, setSpacesLoaded] = useState(false);
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [status, setStatus] = useState<Status>('connecting');
  const [online, setOnline] = useState<ReadonlySet<number>>(new Set());
  const presenceVersion = useRef(0);  // of the last presence snapshot or change applied
  const [menuOpen, setMenuOpen] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [creating, setCreating] = useState<'community' | 'channel' | null>(null);
  const [direct, setDirect] = useState<{ preselect: User[] } | null>(null);
  const listeners = useRef(new Set<Listener>());
  const routeRef = useLatest(route);
  const meRef = useLatest(me);
  const spacesRef = useLatest(spaces);
  // The stream lives as long as the session; its callbacks reach the latest handlers.
  const handlers = useRef({ onFrame: (_f: Frame) => {}, resynced: () => {}, ended: () => {} });
  const [stream] = useState(() => new EventStream({
    onFrame: (f) => handlers.current.onFrame(f),
    onStatus: setStatus,
    onSessionEnded: () => handlers.current.ended(),
    // User events (spaces added or removed) are not replayed: refresh the sidebar after a gap.
    onResynced: () => handlers.current.resynced(),
  }));

  const toast = useCallback((t: Omit<Toast, 'id'>) => {
    const id = Date.now() + Math.random();
    setToasts((list) => [...list.slice(-3), { ...t, id }]);
    window.setTimeout(() => setToasts((list) => list.filter((x) => x.id !== id)), 7000);
  }, []);
  const announce = useCallback((text: string) => {
    setAnnouncement('');
    window.setTimeout(() => setAnnouncement(text), 50);
  }, []);

  const reloadTimer = useRef<number | undefined>(undefined);

  const reloadSpaces = useCallback(async () => {
    try {
      const page = await Api.mySpaces();
      for (const s of page.items) stream.seed(s.id, s.last_seq);
      setSpaces((current) => mergeFetchedSpaces(current, page.items));
      setSpacesLoaded(true);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) toast({ text: 'Could not load your spaces. Retrying when the connection is back.', kind: 'error' });
    }
  }, [stream, toast]);
  const reloadSoon = useCallback(() => {
    window.clearTimeout(reloadTimer.current);
    reloadTimer.current = window.setTimeout(() => { void reloadSpaces(); }, 400);
  }, [reloadSpaces]);

  const onFrame = useCallback((frame: Frame) => {
    const meId = meRef.current.id;
    const route = routeRef.current;
    // Is the person looking at this space right now?
    const looking = (spaceId: number) => route.page === 'space' && route.id === spaceId && document.visibilityState === 'visible';
    if (frame.type === 'event') {
      const known = spacesRef.current.some((s) => s.id === frame.space_id);
      if (!known) reloadSoon();
      // The id the person goes by in this space (under pseudonyms, not their account's).
      const mineIn = (id: number) => memberIdIn(spacesRef.current.find((x) => x.id === id), meId);
      setSpaces((list) => list.map((s) => {
        if (s.id !== frame.space_id) return s;
        const myId = memberIdIn(s, meId);
        const fresh = frame.seq > s.last_seq;
        const next = { ...s, last_seq: Math.max(s.last_seq, frame.seq) };
        if ((frame.event === 'message.created' || frame.event === 'message.published') && fresh && frame.data.author_id !== myId && !looking(s.id)) {
          next.unread_count = s.unread_count + 1;
          if (frame.data.mentions.includes(myId)) next.unread_mentions = s.unread_mentions + 1;
        }
        if (frame.event === 'space.updated') {
          const d = frame.data;
          Object.assign(next, { name: d.name, topic: d.topic, visibility: d.visibility, join_policy: d.join_policy, archived: d.archived, member_count: d.member_count });
          if (d.template) next.template = d.template;
        }
        if (frame.event === 'member.joined' && fresh) next.member_count = s.member_count + 1;
        if (frame.event === 'member.left' && fresh) next.member_count = Math.max(0, s.member_count - 1);
        if (frame.event === 'member.role' && frame.data.user_id === myId) next.my_role = frame.data.role;
        return next;
      }));
      if (frame.event === 'message.deleted' || frame.event === 'message.hidden' || frame.event === 'message.removed') reloadSoon();
      if (frame.event === 'member.left' && frame.data.user_id === mineIn(frame.space_id)) reloadSoon();
      if ((frame.event === 'message.created' || frame.event === 'message.published') && frame.data.author_id !== mineIn(frame.space_id) && looking(frame.space_id)) {
        announce(`${frame.data.author.display_name}: ${frame.data.title ? `${frame.data.title}. ` : ''}${preview(frame.data.body, 200) || attachmentNames(frame.data)}`);
      }
    } else if (frame.type === 'user') {
      if (frame.event === 'read.updated') {
        const { space_id, read_seq } = frame.data;
        let partial = false;
        setSpaces((list) => list.map((s) => {
          if (s.id !== space_id) return s;
          if (read_seq >= s.last_seq) return { ...s, read_seq, unread_count: 0, unread_mentions: 0 };
          partial = true;
          return { ...s, read_seq: Math.max(s.read_seq, read_seq) };
        }));
        if (partial) reloadSoon();
      } else if (frame.event === 'mention') {
        const { space_id } = frame.data;
        if (!looking(space_id)) {
          const s = spacesRef.current.find((x) => x.id === space_id);
          toast({ text: `You were mentioned in ${s ? spaceTitle(s, meId) : 'a space'}`, href: `#/space/${space_id}?m=${frame.data.message_id}` });
        }
      } else if (frame.event === 'moderation.action') {
        const a = frame.data;
        if (a.target_user_id === meId) toast({ text: moderationText(a), href: a.message_id ? href.space(a.space_id, a.message_id) : href.space(a.space_id) });
      } else if (frame.event === 'emergency.started') {
        // Compliance officers hear of every emergency access as it opens (their own aside).
        const g = frame.data;
        if (meRef.current.is_compliance && g.user.id !== meId) {
          toast({ text: `Emergency access opened by ${g.user.display_name} in ${spaceTitle(g.space, meId)}`, href: href.compliance('emergency'), kind: 'alert' });
        }
      } else if (frame.event === 'emergency.ended') {
        // Mine ended (by me elsewhere, by running out, or revoked): leave the space if it is on
        // screen and not one I have become a member of meanwhile.
        const g = frame.data;
        if (g.user.id === meId) {
          const title = spaceTitle(g.space, meId);
          const text = g.end === 'revoked' ? `A compliance officer revoked your emergency access to ${title}.`
            : g.end === 'ended' ? `You ended your emergency access to ${title}.` : `Your emergency access to ${title} has ended.`;
          const member = spacesRef.current.some((s) => s.id === g.space.id);
          if (route.page === 'space' && route.id === g.space.id && !member) leaveEmergencySpace(g.space.id, text, toast);
          else if (g.end === 'revoked') toast({ text });
        }
      } else if (frame.event === 'space.added') {
        const s = frame.data;
        stream.seed(s.id, s.last_seq);
        setSpaces((list) => upsertSpace(list, s));
      } else if (frame.event === 'space.removed') {
        const id = frame.data.space_id ?? frame.data.id;
        if (id !== undefined) {
          stream.forget(id);
          const gone = spacesRef.current.find((x) => x.id === id);
          setSpaces((list) => list.filter((x) => x.id !== id));
          if (route.page === 'space' && route.id === id) {
            toast({ text: `You are no longer a member of ${gone ? spaceTitle(gone, meId) : 'that space'}.` });
            go('#/');
          }
        } else {
          reloadSoon();
        }
      }
    } else if (frame.type === 'presence_snapshot') {
      presenceVersion.current = frame.version;
      setOnline(new Set(frame.user_ids));
    } else if (frame.type === 'presence') {
      // A change the snapshot already holds (sent before it, delivered after) is skipped.
      if (frame.version > presenceVersion.current) {
        presenceVersion.current = frame.version;
        setOnline((set) => {
          const next = new Set(set);
          for (const id of frame.online) next.add(id);
          for (const id of frame.offline) next.delete(id);
          return next;
        });
      }
    }
    for (const l of listeners.current) l(frame);
  }, [announce, reloadSoon, stream, toast, meRef, routeRef, spacesRef]);

  useLayoutEffect(() => {
    handlers.current = { onFrame, resynced: () => { void reloadSpaces(); }, ended: onSessionEnded };
  });

  useEffect(() => {
    let cancelled = false;
    // Cursors are seeded from the sidebar load, so the stream resumes right after it: no gap.
    void reloadSpaces().finally(() => { if (!cancelled) stream.start(); });
    const nudge = () => { if (document.visibilityState === 'visible') stream.nudge(); };
    window.addEventListener('online', nudge);
    document.addEventListener('visibilitychange', nudge);
    return () => {
      cancelled = true;
      stream.stop();
      window.removeEventListener('online', nudge);
      document.removeEventListener('visibilitychange', nudge);
      window.clearTimeout(reloadTimer.current);
    };
  }, [stream, reloadSpaces]);

  // The route follows the hash; the phone menu closes on navigation and focus moves to the new screen.
  useEffect(() => {
    const onHash = () => {
      setRoute(parseRoute(location.hash));
      setMenuOpen(false);
      window.setTimeout(() => {
        // Never take focus from a field the person is already typing in.
        const active = document.activeElement;
        if (active && active.matches('input, textarea, select, [contenteditable="true"]')) return;
        const target = document.querySelector<HTMLElement>('#main [data-autofocus]') ?? document.querySelector<HTMLElement>('#main h1');
        target?.focus({ preventScroll: true });
      }, 60);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    const total = spaces.reduce((n, s) => n + s.unread_count, 0);
    document.title = total > 0 ? `(${total}) Rounds` : 'Rounds';
  }, [spaces]);

  const markSeen = useCallback((spaceId: number, seq: number) => {
    setSpaces((list) => list.map((s) => (s.id === spaceId && seq >= s.last_seq && (s.unread_count || s.unread_mentions)
      ? { ...s, unread_count: 0, unread_mentions: 0, read_seq: seq } : s)));
  }, []);

  const addSpace = useCallback((s: Space) => {
    stream.seed(s.id, s.last_seq);
    setSpaces((list) => upsertSpace(list, s));
  }, [stream]);

  const subscribe = useCallback((l: Listener) => {
    listeners.current.add(l);
    return () => { listeners.current.delete(l); };
  }, []);

  const administering = me.is_admin && admin.deadline > 0;
  useEffect(() => {
    // The server refused an administrator's act: the session does not administer (any more).
    onAdminElevationRequired(() => setAdmin({ until: 0, deadline: 0 }));
  }, []);
  useEffect(() => {
    if (!admin.deadline) return undefined;
    const timer = window.setTimeout(() => {
      setAdmin({ until: 0, deadline: 0 });
      toast({ text: 'You are no longer administering. Choose Administer to go on.' });
    }, Math.max(0, admin.deadline - Date.now()));
    return () => window.clearTimeout(timer);
  }, [admin.deadline, toast]);
  const endAdministration = useCallback(async () => {
    await Api.endElevation();
    setAdmin({ until: 0, deadline: 0 });
    announce('You stopped administering.');
  }, [announce]);

  const ctx: AppContextValue = useMemo(() => ({
    me, setMe, spaces, spacesLoaded, reloadSpaces, addSpace, online, status, stream, subscribe, announce, toast, markSeen,
    openCreateSpace: (kind) => setCreating(kind),
    openNewDirect: (preselect = []) => setDirect({ preselect }),
    administering, adminUntil: administering ? admin.until : 0,
    openElevate: () => setElevating(true),
    endAdministration,
  }), [me, spaces, spacesLoaded, reloadSpaces, addSpace, online, status, stream, subscribe, announce, toast, markSeen,
    administering, admin.until, endAdministration]);

  return (
    <AppContext.Provider value={ctx}>
      <AdministeringContext.Provider value={administering}>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <div className={`shell ${menuOpen ? 'menu-open' : ''}`}>
        <TopBar menuOpen={menuOpen} onMenu={() => setMenuOpen((o) => !o)} onSignOut={onSignOut} />
        {menuOpen && <div className="backdrop" onClick={() => setMenuOpen(false)} aria-hidden="true" />}
        <Sidebar route={route} open={menuOpen} onClose={() => setMenuOpen(false)} onSignOut={onSignOut} />
        <main className="content" id="main" tabIndex={-1}>
          <ErrorBoundary key={route.page === 'space' ? `space-${route.id}` : route.page}>
            <Screen route={route} />
          </ErrorBoundary>
        </main>
      </div>
      <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">{announcement}</div>
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast ${t.kind === 'error' ? 'toast-error' : t.kind === 'alert' ? 'toast-alert' : ''}`}>
            {t.href ? <a href={t.href} onClick={() => setToasts((l) => l.filter((x) => x.id !== t.id))}>{t.text}</a> : <span>{t.text}</span>}
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => setToasts((l) => l.filter((x) => x.id !== t.id))}><Icon name="close" /></button>
          </div>
        ))}
      </div>
      {creating && <CreateSpaceDialog kind={creating} onClose={() => setCreating(null)} onCreated={(s) => { addSpace(s); setCreating(null); go(`#/space/${s.id}`); }} />}
      {elevating && <ElevateDialog onClose={() => setElevating(false)} onElevated={(until, leftMs) => {
        setAdmin({ until, deadline: Date.now() + leftMs });
        setElevating(false);
        announce(`You are administering until ${timeOfDay(until)}.`);
      }} />}
      {direct && <NewDirectDialog preselect={direct.preselect} onClose={() => setDirect(null)} onStarted={(s) => { addSpace(s); setDirect(null); go(`#/space/${s.id}`); }} />}
      </AdministeringContext.Provider>
    </AppContext.Provider>
  );
}

/** A ref that always holds the latest value (updated after each render). */
function useLatest<T>(value: T) {
  const ref = useRef(value);
  useLayoutEffect(() => { ref.current = value; });
  return ref;
}

function Screen({ route }: { route: Route }) {
  switch (route.page) {
    case 'home': return <Home />;
    case 'space': return <SpaceView key={route.id} spaceId={route.id} focusMessage={route.message} />;
    case 'search': return <SearchPage key={route.q} q={route.q} />;
    case 'people': return <PeoplePage />;
    case 'person': return <PersonPage key={route.id} id={route.id} />;
    case 'profile': return <ProfilePage />;
    case 'mentions': return <MentionsPage />;
    case 'discover': return <DiscoverPage />;
    case 'emergency': return <EmergencyPage />;
    case 'compliance': return <CompliancePage section={route.section} templateKey={route.key} />;
    default:
      return (
        <section className="page">
          <h1 tabIndex={-1}>Page not found</h1>
          <p>That address does not lead anywhere in Rounds. <a href="#/">Go to the start page</a>.</p>
        </section>
      );
  }
}
