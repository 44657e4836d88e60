// One space: its header, the feed (community) or chat (channel, direct), the side panel
// (thread, members, pinned, settings), the typing line, and the read marker moved as the
// person looks at new messages. Read with emergency access, it is read-only under a banner and
// loads again only when asked (no live events arrive for it).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Api, ApiError, errorText, type Message, type Space } from '../api';
import { listNames, memberIdIn, plural, spaceTitle } from '../lib/format';
import { policySummary } from '../lib/phi';
import { go, href } from '../lib/route';
import { leaveEmergencySpace } from '../lib/emergency';
import { onWipe } from '../lib/wipe';
import { useApp, useFrames } from '../state';
import Chat from './Chat';
import Feed from './Feed';
import ThreadPanel from './ThreadPanel';
import MembersPanel from './MembersPanel';
import ExportPanel from './ExportPanel';
import PinsPanel from './PinsPanel';
import SettingsPanel from './SettingsPanel';
import EmergencyBanner from './EmergencyBanner';
import Icon from '../components/Icon';

type Panel = { type: 'thread'; root: Message; highlight?: number } | { type: 'members' } | { type: 'pins' } | { type: 'settings' } | { type: 'export' } | null;

const names = new Map<number, string>();
onWipe(() => names.clear());
const TYPING_SHOWN_MS = 5000;

export default function SpaceView({ spaceId, focusMessage }: { spaceId: number; focusMessage?: number }) {
  const { me, spaces, stream, markSeen, addSpace, reloadSpaces, online, toast, administering } = useApp();
  const [loaded, setSpace] = useState<Space | null>(null);
  const [loadError, setLoadError] = useState<{ text: string; status: number } | null>(null);
  const [panel, setPanel] = useState<Panel>(null);
  const [typing, setTyping] = useState<Map<number, number>>(new Map());
  const [joinError, setJoinError] = useState('');
  // Emergency access: each Refresh loads the space and its messages again.
  const [loads, setLoads] = useState(0);
  const emergencyTitle = useRef<string | null>(null);
  const maxSeq = useRef(0);
  const lastMarked = useRef(0);
  const markTimer = useRef<number | undefined>(undefined);
  const sidebarEntry = spaces.find((s) => s.id === spaceId);

  useEffect(() => {
    let cancelled = false;
    Api.space(spaceId)
      .then((loadedSpace) => {
        if (cancelled) return;
        // Read with emergency access there is no read marker (not a member): nothing is "new".
        const s = loadedSpace.emergency ? { ...loadedSpace, read_seq: loadedSpace.last_seq } : loadedSpace;
        for (const m of s.members ?? []) names.set(m.id, m.display_name);
        maxSeq.current = Math.max(maxSeq.current, s.last_seq);
        lastMarked.current = s.read_seq;
        emergencyTitle.current = s.emergency ? spaceTitle(s, me.id) : null;
        setSpace(s);
      })
      .catch((e) => {
        if (cancelled) return;
        const status = e instanceof ApiError ? e.status : 0;
        // A refresh after the emergency access ended: the space is gone for this person.
        if (emergencyTitle.current && status === 404) {
          leaveEmergencySpace(spaceId, `Your emergency access to ${emergencyTitle.current} has ended.`, toast);
          return;
        }
        setLoadError({ text: errorText(e), status });
      });
    return () => { cancelled = true; window.clearTimeout(markTimer.current); };
  }, [spaceId, loads, toast, me.id]);

  // Role changes, renames and member counts reach the sidebar's copy first: it wins.
  const space = useMemo(() => (loaded && sidebarEntry
    ? { ...loaded, my_role: sidebarEntry.my_role, name: sidebarEntry.name, topic: sidebarEntry.topic, archived: sidebarEntry.archived,
      member_count: sidebarEntry.member_count, visibility: sidebarEntry.visibility, join_policy: sidebarEntry.join_policy,
      // The sidebar's list carries only the template's key and version; a full summary comes from events.
      template: sidebarEntry.template?.phi ? sidebarEntry.template : loaded.template }
    : loaded), [loaded, sidebarEntry]);

  const isMember = !!space?.my_role;

  // The read marker follows what is on screen: the newest event seen while the tab is visible.
  const markRead = useCallback(() => {
    if (!isMember || document.visibilityState !== 'visible') return;
    window.clearTimeout(markTimer.current);
    markTimer.current = window.setTimeout(() => {
      const seq = maxSeq.current;
      if (seq <= lastMarked.current) { markSeen(spaceId, seq); return; }
      lastMarked.current = seq;
      markSeen(spaceId, seq);
      Api.markRead(spaceId, seq).catch(() => { lastMarked.current = 0; });
    }, 250);
  }, [isMember, spaceId, markSeen]);

  useEffect(() => {
    if (!space) return;
    markRead();
    const onVisible = () => { if (document.visibilityState === 'visible') markRead(); };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [space, markRead]);

  useFrames((f) => {
    // Asked to join: approved, the space arrives as one of the caller's; declined, they are told.
    if (f.type === 'user' && f.event === 'space.added' && f.data.id === spaceId) {
      setSpace((s) => (s && !s.my_role ? { ...s, ...f.data } : s));
      return;
    }
    if (f.type === 'user' && f.event === 'space.join_request' && f.data.space_id === spaceId && f.data.user_id === me.id) {
      if (f.data.change === 'declined') {
        setSpace((s) => (s ? { ...s, join_requested: false } : s));
        setJoinError('Your request to join was declined.');
      }
      return;
    }
    if (f.type === 'typing' && f.space_id === spaceId && f.user_id !== memberIdIn(loaded ?? undefined, me.id)) {
      // A pseudonymous id (below zero) is named by the messages seen here, never looked up.
      if (!names.has(f.user_id) && f.user_id > 0) {
        Api.user(f.user_id).then((u) => { names.set(u.id, u.display_name); setTyping((t) => new Map(t)); }).catch(() => {});
      }
      setTyping((t) => new Map(t).set(f.user_id, Date.now() + TYPING_SHOWN_MS));
      return;
    }
    if (f.type !== 'event' || f.space_id !== spaceId) return;
    maxSeq.current = Math.max(maxSeq.current, f.seq);
    if (f.event === 'message.created') {
      names.set(f.data.author_id, f.data.author.display_name);
      setTyping((t) => { if (!t.has(f.data.author_id)) return t; const n = new Map(t); n.delete(f.data.author_id); return n; });
    }
    if (f.event === 'space.updated') setSpace((s) => (s ? { ...s, name: f.data.name, topic: f.data.topic, visibility: f.data.visibility, join_policy: f.data.join_policy, archived: f.data.archived, template: f.data.template ?? s.template } : s));
    if (f.event === 'message.deleted' && panel?.type === 'thread' && panel.root.id === f.data.id) setPanel(null);
    markRead();
  });

  useEffect(() => {
    if (typing.size === 0) return;
    const timer = window.setInterval(() => setTyping((t) => {
      const now = Date.now();
      const next = new Map([...t].filter(([, until]) => until > now));
      return next.size === t.size ? t : next;
    }), 1000);
    return () => window.clearInterval(timer);
  }, [typing.size]);

  // Esc closes the side panel (dialogs and menus handle their own Esc first).
  useEffect(() => {
    if (!panel) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || document.querySelector('dialog[open]')) return;
      setPanel(null);
    };
    document.addEventListener('keydown', onKey);
    // Move focus into the panel for keyboard and screen reader users (the thread's composer takes it itself).
    if (panel.type !== 'thread') window.setTimeout(() => document.querySelector<HTMLElement>('.side-panel h2')?.focus(), 30);
    return () => document.removeEventListener('keydown', onKey);
  }, [panel]);

  const openThread = useCallback((root: Message, highlight?: number) => setPanel({ type: 'thread', root, highlight }), []);

  if (loadError) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>{loadError.status === 404 || loadError.status === 403 ? 'This space is not available' : 'Could not open this space'}</h1>
        <p className="error" role="alert">{loadError.text}</p>
        <p><a href={href.home()}>Back to the start page</a> · <a href={href.discover()}>Discover spaces</a></p>
      </section>
    );
  }
  if (!space) return <p className="muted loading-space" aria-busy="true">Loading…</p>;

  const title = spaceTitle(space, me.id);
  const emergency = space.emergency;
  const canWrite = !emergency && isMember && space.my_role !== 'read_only' && !space.archived;
  const isOwner = !emergency && (space.my_role === 'owner' || administering);
  // The space's owners and moderators, where its policy allows exports (the server decides again).
  const canExport = !emergency && (space.my_role === 'owner' || space.my_role === 'moderator') && space.template?.export_allowed === true;
  const typers = [...typing.keys()].map((id) => ({ id, username: '', display_name: names.get(id) ?? 'Someone' }));
  const typingLine = (
    <p className="typing" aria-hidden={typers.length === 0}>
      {typers.length === 0 ? '\u00a0' : typers.length > 3 ? 'Several people are typing…' : `${listNames(typers)} ${typers.length === 1 ? 'is' : 'are'} typing…`}
    </p>
  );
  const directOthers = (space.members ?? []).filter((m) => m.id !== me.id);

  const join = async () => {
    setJoinError('');
    try {
      await Api.join(space.id);
      const fresh = await Api.space(space.id);
      setSpace(fresh);
      addSpace(fresh);
      stream.seed(fresh.id, fresh.last_seq);
    } catch (e) { setJoinError(errorText(e)); }
  };

  const askToJoin = async (ask: boolean) => {
    setJoinError('');
    try {
      if (ask) await Api.requestToJoin(space.id);
      else await Api.withdrawJoinRequest(space.id, me.id);
      setSpace((s) => (s ? { ...s, join_requested: ask } : s));
    } catch (e) { setJoinError(errorText(e)); }
  };

  const togglePanel = (type: 'members' | 'pins' | 'settings' | 'export') => setPanel((p) => (p?.type === type ? null : { type }));

  return (
    <div className={`space-view kind-${space.kind} ${panel ? 'with-panel' : ''}`}>
      <section className="space-main" aria-labelledby="space-title">
        <header className="space-header">
          <div className="space-heading">
            <h1 id="space-title" tabIndex={-1}>
              {space.visibility === 'private' && space.kind !== 'direct' && <span className="lock"><Icon name="lock" size={16} label="Private" /> </span>}
              {title}
            </h1>
            {space.kind === 'direct'
              ? <p className="topic">{directOthers.length > 1 ? `Group conversation · ${plural(directOthers.length + 1, 'person', 'people')}` : 'Direct message'}
                {directOthers.some((m) => online.has(m.id)) && <span className="online-text"> · online now</span>}</p>
              : <p className="topic">{space.topic || (space.kind === 'community' ? 'Community' : 'Channel')}</p>}
          </div>
          <div className="space-actions" role="toolbar" aria-label="Space">
            {space.kind !== 'direct' && space.template?.name && (
              <span className="meta policy-chip" title={`Policy: ${space.template.name} (v${space.template.version})`}>{policySummary(space.template, me.kind === 'patient' || !!me.is_guest)}</span>
            )}
            {space.kind !== 'direct' && <span className="meta">{plural(space.member_count, 'member')}</span>}
            <button type="button" className={`secondary small ${panel?.type === 'pins' ? 'active' : ''}`} aria-pressed={panel?.type === 'pins'} onClick={() => togglePanel('pins')}>Pinned</button>
            {!emergency && (
              <button type="button" className={`secondary small ${panel?.type === 'members' ? 'active' : ''}`} aria-pressed={panel?.type === 'members'} onClick={() => togglePanel('members')}>
                {space.kind === 'direct' ? 'People' : 'Members'}
              </button>
            )}
            {canExport && (
              <button type="button" className={`secondary small ${panel?.type === 'export' ? 'active' : ''}`} aria-pressed={panel?.type === 'export'} onClick={() => togglePanel('export')}>Export</button>
            )}
            {isOwner && space.kind !== 'direct' && (
              <button type="button" className={`secondary small ${panel?.type === 'settings' ? 'active' : ''}`} aria-pressed={panel?.type === 'settings'} onClick={() => togglePanel('settings')}>Settings</button>
            )}
          </div>
        </header>
        {emergency && (
          <EmergencyBanner space={space} grantId={emergency.grant_id} expiresAt={emergency.expires_at} onRefresh={() => setLoads((n) => n + 1)} />
        )}
        {space.archived && <p className="notice">This {space.kind} is archived: you can read it, but nobody can post.</p>}
        {space.template?.pseudonyms && space.my_pseudonym && isMember && (
          <p className="notice pseudonym-note">Members here appear under pseudonyms, not their names. You are <strong>{space.my_pseudonym}</strong>.</p>
        )}
        {space.my_role === 'read_only' && <p className="notice">You can read this {space.kind} but not post in it.</p>}
        {!isMember && !emergency && (
          <div className="notice join-bar">
            {space.joining === 'request'
              ? (space.join_requested
                ? <><span>You asked to join this {space.kind}. Its moderators will decide.</span> <button type="button" className="secondary small" onClick={() => askToJoin(false)}>Withdraw request</button></>
                : <><span>You are previewing this {space.kind}. Its policy admits people on request.</span> <button type="button" className="primary small" onClick={() => askToJoin(true)}>Ask to join</button></>)
              : space.join_policy === 'open' && space.visibility === 'public'
                ? <><span>You are previewing this {space.kind}.</span> <button type="button" className="primary small" onClick={join}>Join {space.kind}</button></>
                : <span>Only people an owner or moderator adds can post here.</span>}
            {joinError && <p className="error" role="alert">{joinError}</p>}
          </div>
        )}
        {space.kind === 'community'
          ? <div className="space-scroll"><Feed key={loads} space={space} focusMessage={focusMessage} canWrite={canWrite} /></div>
          : <Chat key={loads} space={space} title={title} focusMessage={focusMessage} onOpenThread={openThread} canWrite={canWrite} footer={typingLine} />}
      </section>
      {panel?.type === 'thread' && <ThreadPanel key={panel.root.id} root={panel.root} space={space} highlight={panel.highlight} onClose={() => setPanel(null)} />}
      {panel?.type === 'members' && <MembersPanel space={space} onClose={() => setPanel(null)} onLeft={() => { void reloadSpaces(); go(href.home()); }} />}
      {panel?.type === 'pins' && <PinsPanel space={space} onClose={() => setPanel(null)} />}
      {panel?.type === 'export' && <ExportPanel space={space} onClose={() => setPanel(null)} />}
      {panel?.type === 'settings' && <SettingsPanel space={space} onClose={() => setPanel(null)} onSaved={(s) => setSpace((x) => (x ? { ...x, ...s, my_role: x.my_role } : s))} />}
    </div>
  );
}
