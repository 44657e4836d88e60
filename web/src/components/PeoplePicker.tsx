// Type a name, pick people from the directory. Used to start conversations and to add members.
import { useEffect, useId, useState } from 'react';
import { Api, errorText, type User } from '../api';
import Avatar from './Avatar';
import Chips from './Chips';

// includeDisabled: disabled accounts are listed too, marked (custodians of holds and exports;
// the server lists them to administrators and compliance officers only).
export default function PeoplePicker({ label, selected, onToggle, exclude = [], max, includeDisabled = false }: {
  label: string; selected: User[]; onToggle: (u: User) => void; exclude?: number[]; max?: number; includeDisabled?: boolean;
}) {
  const id = useId();
  const [q, setQ] = useState('');
  const [results, setResults] = useState<User[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    const ctrl = new AbortController();
    const timer = window.setTimeout(() => {
      Api.users({ q: q.trim(), limit: 20, include_disabled: includeDisabled }, ctrl.signal)
        .then((p) => { setResults(p.items); setError(''); })
        .catch((e) => { const t = errorText(e); if (t) setError(t); });
    }, 200);
    return () => { ctrl.abort(); window.clearTimeout(timer); };
  }, [q, includeDisabled]);
  const chosen = new Set(selected.map((u) => u.id));
  const full = max !== undefined && selected.length >= max;
  const shown = results.filter((u) => !exclude.includes(u.id) && (includeDisabled || !u.disabled));
  return (
    <div className="people-picker">
      <Chips label={label} items={selected} name={(u) => u.display_name} onRemove={onToggle} />
      <label htmlFor={id}>{label}</label>
      <input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Name or username" autoComplete="off" />
      {error && <p className="error" role="alert">{error}</p>}
      <ul className="picker-results" aria-label="People found">
        {shown.map((u) => (
          <li key={u.id}>
            <label className="picker-row">
              <input type="checkbox" checked={chosen.has(u.id)} disabled={!chosen.has(u.id) && full} onChange={() => onToggle(u)} />
              <Avatar id={u.id} name={u.display_name} size="sm" />
              <span><strong>{u.display_name}</strong> <span className="muted">@{u.username}{u.job_role ? ` · ${u.job_role}` : ''}{u.disabled ? ' · disabled' : ''}</span></span>
            </label>
          </li>
        ))}
        {shown.length === 0 && <li className="muted">Nobody found.</li>}
      </ul>
    </div>
  );
}
