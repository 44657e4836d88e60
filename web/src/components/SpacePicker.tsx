// Type a name, pick spaces from every community and channel (compliance officers: legal holds,
// exports, template assignments name spaces they are not members of) and, where it is offered,
// from every direct conversation, found and named by its people.
import { useEffect, useId, useState } from 'react';
import { Api, errorText, type Space } from '../api';
import Chips from './Chips';

/** What a picked space needs to be shown and sent. */
export type PickedSpace = Pick<Space, 'id' | 'name'>;

/** A direct conversation has no name: its people's. */
const nameOf = (s: Space): string =>
  s.kind === 'direct' ? (s.members ?? []).map((m) => m.display_name).join(', ') || 'Direct conversation' : s.name;

function describe(s: Space): string {
  const parts = [s.kind, s.visibility === 'private' ? 'private' : '', s.archived ? 'archived' : '',
    s.template ? `${s.template.key} v${s.template.version}` : ''];
  return parts.filter(Boolean).join(' · ');
}

export default function SpacePicker({ label, selected, onToggle, max, includeDirect = false }: {
  label: string; selected: PickedSpace[]; onToggle: (s: PickedSpace) => void; max?: number; includeDirect?: boolean;
}) {
  const id = useId();
  const [q, setQ] = useState('');
  const [direct, setDirect] = useState(false);
  const [results, setResults] = useState<Space[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const ctrl = new AbortController();
    const timer = window.setTimeout(() => {
      Api.allSpaces(q.trim(), ctrl.signal, direct ? 'direct' : undefined)
        .then((p) => { setResults(p.items); setError(''); })
        .catch((e) => { const t = errorText(e); if (t) setError(t); });
    }, 200);
    return () => { ctrl.abort(); window.clearTimeout(timer); };
  }, [q, direct]);
  const chosen = new Set(selected.map((s) => s.id));
  const full = max !== undefined && selected.length >= max;
  return (
    <div className="people-picker space-picker">
      <Chips label={label} items={selected} name={(s) => s.name} onRemove={onToggle} />
      <label htmlFor={id}>{label}</label>
      {includeDirect && (
        <div className="row picker-kinds" role="radiogroup" aria-label={`${label}: kind`}>
          <label><input type="radio" name={`${id}-kind`} checked={!direct} onChange={() => setDirect(false)} /> Communities and channels</label>
          <label><input type="radio" name={`${id}-kind`} checked={direct} onChange={() => setDirect(true)} /> Direct conversations</label>
        </div>
      )}
      <input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} autoComplete="off"
        placeholder={direct ? 'A person in the conversation' : 'Space name or topic'} />
      {error && <p className="error" role="alert">{error}</p>}
      <ul className="picker-results" aria-label={`${label}: spaces found`}>
        {(results ?? []).map((s) => (
          <li key={s.id}>
            <label className="picker-row">
              <input type="checkbox" checked={chosen.has(s.id)} disabled={!chosen.has(s.id) && full}
                onChange={() => onToggle({ id: s.id, name: nameOf(s) })} />
              <span><strong>{nameOf(s)}</strong> <span className="muted">{describe(s)}</span></span>
            </label>
          </li>
        ))}
        {results !== null && results.length === 0 && <li className="muted">No space found.</li>}
      </ul>
    </div>
  );
}
