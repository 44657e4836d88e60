// My spaces grouped by kind with unread and mention badges, plus the app's other places.
import { useEffect, useMemo, useRef } from 'react';
import type { Space } from '../api';
import { useApp } from '../state';
import { href, type Route } from '../lib/route';
import { spaceTitle } from '../lib/format';
import Icon from './Icon';

const GROUPS = [
  { kind: 'community', title: 'Communities', add: 'Create a community' },
  { kind: 'channel', title: 'Channels', add: 'Create a channel' },
  { kind: 'direct', title: 'Direct messages', add: 'Start a direct message' },
] as const;

export default function Sidebar({ route, open, onClose, onSignOut }: { route: Route; open: boolean; onClose: () => void; onSignOut: () => void }) {
  const { me, spaces, spacesLoaded, online, openCreateSpace, openNewDirect } = useApp();
  const ref = useRef<HTMLElement>(null);
  const activeId = route.page === 'space' ? route.id : null;
  // The organization's staff; a guest has only the spaces they were added to (the server decides).
  const staff = me.kind === 'staff' && !me.is_guest;

  // On a phone the menu is a drawer: focus moves into it, and Esc closes it.
  useEffect(() => {
    if (!open) return;
    ref.current?.querySelector<HTMLElement>('a, button')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') { onClose(); document.querySelector<HTMLElement>('.menu-button')?.focus(); }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open, onClose]);

  const grouped = useMemo(() => {
    const byName = (a: Space, b: Space) => spaceTitle(a, me.id).localeCompare(spaceTitle(b, me.id));
    return {
      community: spaces.filter((s) => s.kind === 'community').sort(byName),
      channel: spaces.filter((s) => s.kind === 'channel').sort(byName),
      direct: spaces.filter((s) => s.kind === 'direct').sort((a, b) => b.last_seq - a.last_seq || byName(a, b)),
    };
  }, [spaces, me.id]);
  const mentions = spaces.reduce((n, s) => n + s.unread_mentions, 0);

  const navLink = (to: string, label: string, page: Route['page'], badge?: number) => (
    <li>
      <a href={to} className={`nav-link ${route.page === page ? 'active' : ''}`} aria-current={route.page === page ? 'page' : undefined}>
        <span>{label}</span>
        {badge ? <span className="badge mention" aria-label={`${badge} unread mentions`}>{badge}</span> : null}
      </a>
    </li>
  );

  return (
    <nav id="sidebar" ref={ref} className={`sidebar ${open ? 'open' : ''}`} aria-label="Spaces and places">
      <ul className="nav-links">
        {navLink(href.home(), 'Home', 'home')}
        {navLink(href.mentions(), 'Mentions', 'mentions', mentions)}
        {staff && navLink(href.people(), 'People', 'people')}
        {staff && navLink(href.discover(), 'Discover', 'discover')}
        {staff && navLink(href.emergency(), 'Emergency access', 'emergency')}
        {me.is_compliance
          ? navLink(href.compliance(), 'Compliance', 'compliance')
          : spaces.some((s) => s.my_role === 'owner' || s.my_role === 'moderator') && navLink(href.compliance('moderation'), 'Review queue', 'compliance')}
      </ul>
      {GROUPS.map((g) => (
        <section key={g.kind} className="space-group" aria-labelledby={`group-${g.kind}`}>
          <div className="group-head">
            <h2 id={`group-${g.kind}`}>{g.title}</h2>
            {staff && (
              <button type="button" className="icon-button add" aria-label={g.add} title={g.add}
                onClick={() => (g.kind === 'direct' ? openNewDirect() : openCreateSpace(g.kind))}><Icon name="plus" /></button>
            )}
          </div>
          <ul>
            {grouped[g.kind].map((s) => {
              const title = spaceTitle(s, me.id);
              const otherOnline = s.kind === 'direct' && (s.members ?? []).some((m) => m.id !== me.id && online.has(m.id));
              const label = [title, s.unread_count ? `${s.unread_count} unread` : '', s.unread_mentions ? `${s.unread_mentions} mentions` : ''].filter(Boolean).join(', ');
              return (
                <li key={s.id}>
                  <a href={href.space(s.id)} data-space-id={s.id} aria-label={label}
                    className={`space-link ${activeId === s.id ? 'active' : ''} ${s.unread_count ? 'unread' : ''}`}
                    aria-current={activeId === s.id ? 'page' : undefined}>
                    <span className="space-name">
                      {s.kind === 'direct' && <span className={`presence ${otherOnline ? 'on' : ''}`} aria-hidden="true" />}
                      {s.visibility === 'private' && s.kind !== 'direct' && <span className="lock"><Icon name="lock" size={12} /></span>}
                      <span className="space-title">{title}</span>
                    </span>
                    {s.unread_mentions > 0 && <span className="badge mention" aria-hidden="true">@{s.unread_mentions}</span>}
                    {s.unread_count > 0 && <span className="badge unread-count" aria-hidden="true">{s.unread_count}</span>}
                  </a>
                </li>
              );
            })}
            {spacesLoaded && grouped[g.kind].length === 0 && (
              <li className="empty-group">
                {g.kind === 'direct' ? 'No conversations yet.' : g.kind === 'community' ? <a href={href.discover()}>Find communities</a> : 'None yet.'}
              </li>
            )}
          </ul>
        </section>
      ))}
      <div className="sidebar-footer">
        <a href={href.profile()}>Your profile</a>
        <button type="button" className="secondary" onClick={onSignOut}>Sign out</button>
      </div>
    </nav>
  );
}
