// One person, found by name, in a form that has no room for a list: suggestions appear only
// while something is typed, and the one chosen stays as a chip until removed.
import { useEffect, useId, useState } from 'react';
import { Api, errorText, type User, type UserRef } from '../api';
import Icon from './Icon';

export default function PersonField({ label, chosen, onChoose, includeDisabled = false }: {
  label: string; chosen: UserRef | null; onChoose: (u: UserRef | null) => void; includeDisabled?: boolean;
}) {
  const id = useId();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<User[]>([]);
  const [error, setError] = useState('');
  const text = q.trim();
  useEffect(() => {
    if (!text || chosen) { setFound([]); return; }
    const ctrl = new AbortController();
    const timer = window.setTimeout(() => {
      Api.users({ q: text, limit: 8, include_disabled: includeDisabled }, ctrl.signal)
        .then((p) => { setFound(p.items); setError(''); })
        .catch((e) => { const t = errorText(e); if (t) setError(t); });
    }, 200);
    return () => { ctrl.abort(); window.clearTimeout(timer); };
  }, [text, chosen, includeDisabled]);
  return (
    <div className="person-field">
      <label htmlFor={id}>{label}</label>
      {chosen ? (
        <span className="chip">{chosen.display_name} <span className="muted small">@{chosen.username}</span>
          <button type="button" id={id} className="icon-button" aria-label={`Remove ${chosen.display_name}`} onClick={() => { onChoose(null); setQ(''); }}><Icon name="close" /></button>
        </span>
      ) : (
        <input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Name or username" autoComplete="off" />
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {!chosen && found.length > 0 && (
        <ul className="person-suggestions" aria-label={`${label}: people found`}>
          {found.map((u) => (
            <li key={u.id}>
              <button type="button" className="link" onClick={() => onChoose({ id: u.id, username: u.username, display_name: u.display_name })}>
                {u.display_name} <span className="muted small">@{u.username}{u.disabled ? ' · disabled' : ''}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
