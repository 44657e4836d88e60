import { useState } from 'react';
import { useApp } from '../state';
import { go, href } from '../lib/route';
import { errorText } from '../api';
import { timeOfDay } from '../lib/format';
import Avatar from './Avatar';
import Icon from './Icon';

const STATUS_TEXT = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…' } as const;

export default function TopBar({ menuOpen, onMenu, onSignOut }: { menuOpen: boolean; onMenu: () => void; onSignOut: () => void }) {
  const { me, status, administering, adminUntil, openElevate, endAdministration, toast } = useApp();
  const [q, setQ] = useState('');
  return (
    <header className="topbar">
      <button type="button" className="menu-button icon-button" aria-label="Menu" aria-expanded={menuOpen} aria-controls="sidebar" onClick={onMenu}>
        <Icon name="menu" size={22} />
      </button>
      <a className="brand" href="#/"><span className="brand-mark" aria-hidden="true">R</span><span className="brand-name">Rounds</span></a>
      <form className="search-form" role="search" onSubmit={(e) => {
        e.preventDefault();
        if (q.trim()) go(href.search(q.trim()));
      }}>
        <label htmlFor="global-search" className="visually-hidden">Search</label>
        <input id="global-search" name="q" type="search" placeholder="Search messages, people, spaces" value={q} onChange={(e) => setQ(e.target.value)} />
      </form>
      <span className={`status status-${status}`} role="status" aria-live="polite" title={status === 'live' ? 'Receiving updates live' : 'Updates are paused; they will catch up when the connection returns'}>
        <span className="status-dot" aria-hidden="true" />
        <span className="status-text">{STATUS_TEXT[status]}</span>
      </span>
      {me.is_admin && (administering
        ? (
          <span className="admin-state">
            <span className="admin-badge" title="Your acts as an administrator are on the audit trail">Administering until {timeOfDay(adminUntil)}</span>
            <button type="button" className="secondary admin-stop" aria-label="Stop administering" onClick={() => {
              endAdministration().catch((e) => toast({ text: errorText(e), kind: 'error' }));
            }}>Stop<span className="wide-only"> administering</span></button>
          </span>
        )
        : <button type="button" className="secondary admin-start" onClick={openElevate}>Administer</button>)}
      <a href={href.profile()} className="me" aria-label={`Your profile: ${me.display_name}`}>
        <Avatar id={me.id} name={me.display_name} size="sm" />
        <span className="me-name">{me.display_name}</span>
      </a>
      <button type="button" className="secondary signout" onClick={onSignOut}>Sign out</button>
    </header>
  );
}
