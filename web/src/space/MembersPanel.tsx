// Who is in a space. Owners and moderators add people; owners change roles; anyone can leave.
import { useCallback, useEffect, useState } from 'react';
import { Api, errorText, type JoinRequest, type Member, type Role, type Space, type User } from '../api';
import { useApp, useFrames } from '../state';
import { href } from '../lib/route';
import { memberIdIn } from '../lib/format';
import Avatar from '../components/Avatar';
import PeoplePicker from '../components/PeoplePicker';
import Icon from '../components/Icon';
import { useLatestOnly } from '../lib/latest';

const ROLE_LABEL: Record<Role, string> = { owner: 'Owner', moderator: 'Moderator', member: 'Member', read_only: 'Read only' };

export default function MembersPanel({ space, onClose, onLeft }: { space: Space; onClose: () => void; onLeft: () => void }) {
  const { me, online, administering } = useApp();
  const myId = memberIdIn(space, me.id);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState('');
  const [adding, setAdding] = useState<User[]>([]);
  const [addOpen, setAddOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const role = space.my_role;
  const isOwner = role === 'owner' || administering;
  const canAdd = (role === 'owner' || role === 'moderator') && space.kind !== 'direct';

  const [requests, setRequests] = useState<JoinRequest[]>([]);
  const takesRequests = canAdd && space.joining === 'request';

  const latest = useLatestOnly();
  const latestRequests = useLatestOnly();
  const load = useCallback(() => {
    latest(Api.members(space.id), (p) => setMembers(p.items), (e) => setError(errorText(e)));
    if (takesRequests) latestRequests(Api.joinRequests(space.id), (p) => setRequests(p.items), (e) => setError(errorText(e)));
  }, [space.id, latest, latestRequests, takesRequests]);
  useEffect(load, [load]);
  useFrames((f) => {
    if (f.type === 'event' && f.space_id === space.id && f.event.startsWith('member.')) load();
    if (f.type === 'user' && f.event === 'space.join_request' && f.data.space_id === space.id) load();
  });

  const run = async (fn: () => Promise<unknown>) => {
    setError('');
    try { await fn(); load(); } catch (e) { setError(errorText(e)); }
  };
  const sorted = (members ?? []).slice().sort((a, b) =>
    Object.keys(ROLE_LABEL).indexOf(a.role) - Object.keys(ROLE_LABEL).indexOf(b.role) || a.user.display_name.localeCompare(b.user.display_name));

  return (
    <aside className="side-panel" aria-labelledby="members-title">
      <header className="panel-head">
        <h2 id="members-title" tabIndex={-1}>Members{members ? ` (${members.length})` : ''}</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close members"><Icon name="close" /></button>
      </header>
      <div className="panel-body">
        {error && <p className="error" role="alert">{error}</p>}
        {canAdd && !addOpen && <button type="button" className="secondary" onClick={() => setAddOpen(true)}>Add people</button>}
        {canAdd && addOpen && (
          <form className="stack add-members" onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            for (const u of adding) await run(() => Api.addMember(space.id, u.id));
            setBusy(false);
            setAdding([]);
            setAddOpen(false);
          }}>
            <PeoplePicker label="Find people to add" selected={adding} exclude={(members ?? []).map((m) => m.user_id)}
              onToggle={(u) => setAdding((l) => (l.some((x) => x.id === u.id) ? l.filter((x) => x.id !== u.id) : [...l, u]))} />
            <div className="row">
              <button type="submit" className="primary" disabled={busy || adding.length === 0}>Add {adding.length || ''}</button>
              <button type="button" className="secondary" onClick={() => { setAddOpen(false); setAdding([]); }}>Cancel</button>
            </div>
          </form>
        )}
        {takesRequests && requests.length > 0 && (
          <section className="join-requests" aria-labelledby="join-requests-title">
            <h3 id="join-requests-title">Asking to join ({requests.length})</h3>
            <ul className="member-list">
              {requests.map((r) => (
                <li key={r.user.id} className="member-row">
                  <Avatar id={r.user.id} name={r.user.display_name} size="sm" online={online.has(r.user.id)} />
                  <span className="member-name">
                    <span><a href={href.person(r.user.id)}>{r.user.display_name}</a></span>
                    <span className="muted small">@{r.user.username}{r.job_role ? ` · ${r.job_role}` : ''}</span>
                  </span>
                  <button type="button" className="primary small" aria-label={`Approve ${r.user.display_name}`}
                    onClick={() => run(() => Api.decideJoinRequest(space.id, r.user.id, true))}>Approve</button>
                  <button type="button" className="link danger" aria-label={`Decline ${r.user.display_name}`}
                    onClick={() => run(() => Api.decideJoinRequest(space.id, r.user.id, false))}>Decline</button>
                </li>
              ))}
            </ul>
          </section>
        )}
        {!members && !error && <p className="muted">Loading…</p>}
        <ul className="member-list">
          {sorted.map((m) => (
            <li key={m.user_id} className="member-row">
              <Avatar id={m.user_id} name={m.user.display_name} size="sm" online={online.has(m.user_id)} />
              <span className="member-name">
                <span>
                  {m.pseudonym && !m.account ? m.user.display_name : <a href={href.person(m.user_id)}>{m.user.display_name}</a>}
                  {m.user_id === myId && <span className="muted"> (you)</span>}
                  {m.is_guest && <span className="chip guest-chip" title="From outside the organization">Guest</span>}
                </span>
                <span className="muted small">
                  {m.account ? <>{m.account.display_name} · @{m.account.username}</> : m.pseudonym ? 'pseudonym' : `@${m.user.username}`}
                  {online.has(m.user_id) && !m.pseudonym ? ' · online' : ''}
                </span>
              </span>
              {isOwner && m.user_id !== myId && space.kind !== 'direct' ? (
                <>
                  <label className="visually-hidden" htmlFor={`role-${m.user_id}`}>Role of {m.user.display_name}</label>
                  <select id={`role-${m.user_id}`} value={m.role} onChange={(e) => run(() => Api.setRole(space.id, m.user_id, e.target.value as Role))}>
                    {Object.entries(ROLE_LABEL).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
                  </select>
                </>
              ) : <span className={`role role-${m.role}`}>{ROLE_LABEL[m.role]}</span>}
              {canAdd && m.user_id !== myId && m.role !== 'owner' && (
                <button type="button" className="link danger" aria-label={`Remove ${m.user.display_name}`}
                  onClick={() => run(() => Api.removeMember(space.id, m.user_id))}>Remove</button>
              )}
            </li>
          ))}
        </ul>
        {role && space.kind !== 'direct' && (
          <p><button type="button" className="secondary danger" onClick={() => run(async () => { await Api.leave(space.id); onLeft(); })}>Leave this {space.kind}</button></p>
        )}
      </div>
    </aside>
  );
}
