// Legal holds: what they preserve (custodians, spaces, a time window), who placed them, and
// releasing one with a reason. A held message is never purged, and one deleted while held keeps
// its final text for e-discovery.
import { useCallback, useEffect, useId, useState } from 'react';
import { errorText, type User } from '../../api';
import { Gov, type LegalHold } from '../../governanceApi';
import { fullTime, parseIds } from '../../lib/format';
import { useApp } from '../../state';
import PeoplePicker from '../../components/PeoplePicker';

const toMillis = (local: string) => (local ? new Date(local).getTime() : null);

export default function HoldsPage() {
  const [holds, setHolds] = useState<LegalHold[] | null>(null);
  const [error, setError] = useState('');
  const reload = useCallback(() => Gov.holds().then((p) => { setHolds(p.items); setError(''); }).catch((e) => setError(errorText(e))), []);
  useEffect(() => { void reload(); }, [reload]);
  const active = holds?.filter((h) => !h.released_at) ?? [];
  const released = holds?.filter((h) => h.released_at) ?? [];
  return (
    <div className="holds-page">
      <h2>Legal holds</h2>
      {error && <p className="error" role="alert">{error}</p>}
      {holds === null && !error && <p className="muted">Loading…</p>}
      {holds && <HoldTable title="Active" holds={active} onReleased={reload} />}
      {released.length > 0 && <HoldTable title="Released" holds={released} onReleased={reload} />}
      <NewHold onCreated={reload} />
    </div>
  );
}

function HoldTable({ title, holds, onReleased }: { title: string; holds: LegalHold[]; onReleased: () => void }) {
  const [releasing, setReleasing] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  return (
    <section aria-label={`${title} holds`}>
      <h3>{title}</h3>
      {holds.length === 0 ? <p className="muted">None.</p> : (
        <div className="table-scroll">
          <table className="data-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Covers</th><th scope="col">Window</th><th scope="col">Placed</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {holds.map((h) => (
                <tr key={h.id}>
                  <td><strong>{h.name}</strong><div className="muted small">{h.reason}</div></td>
                  <td>
                    {h.custodian_ids?.length ? <div>Custodians: {h.custodian_ids.join(', ')}</div> : null}
                    {h.space_ids?.length ? <div>Spaces: {h.space_ids.join(', ')}</div> : null}
                  </td>
                  <td>{h.from_time ? fullTime(h.from_time) : 'Any time'} – {h.to_time ? fullTime(h.to_time) : 'now'}</td>
                  <td>{fullTime(h.created_at)}{h.released_at ? <div className="muted small">Released {fullTime(h.released_at)}</div> : null}</td>
                  <td>
                    {!h.released_at && (releasing === h.id ? (
                      <form onSubmit={async (e) => {
                        e.preventDefault();
                        if (!reason.trim()) { setError('Give a reason for releasing the hold.'); return; }
                        try { await Gov.releaseHold(h.id, reason.trim()); setReleasing(null); setReason(''); setError(''); onReleased(); } catch (err) { setError(errorText(err)); }
                      }}>
                        <label htmlFor={`release-${h.id}`}>Reason</label>
                        <input id={`release-${h.id}`} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
                        <div className="row"><button type="submit" className="danger small">Release</button><button type="button" className="secondary small" onClick={() => setReleasing(null)}>Cancel</button></div>
                      </form>
                    ) : <button type="button" className="secondary small" onClick={() => { setReleasing(h.id); setError(''); }} aria-label={`Release ${h.name}`}>Release…</button>)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}

function NewHold({ onCreated }: { onCreated: () => void }) {
  const id = useId();
  const { spaces } = useApp();
  const [name, setName] = useState('');
  const [reason, setReason] = useState('');
  const [custodians, setCustodians] = useState<User[]>([]);
  const [spaceIds, setSpaceIds] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  return (
    <details className="card">
      <summary>Place a hold</summary>
      <form onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        const ids = parseIds(spaceIds);
        if (ids === null) { setError('Space ids must be numbers separated by commas.'); return; }
        if (custodians.length === 0 && ids.length === 0) { setError('A hold names custodians, spaces or both.'); return; }
        try {
          await Gov.createHold({ name: name.trim(), reason: reason.trim(), custodian_ids: custodians.map((u) => u.id), space_ids: ids, from_time: toMillis(from), to_time: toMillis(to) });
          setDone(`Hold “${name.trim()}” placed.`);
          setName(''); setReason(''); setCustodians([]); setSpaceIds(''); setFrom(''); setTo('');
          onCreated();
        } catch (err) { setError(errorText(err)); }
      }}>
        <div className="form-grid">
          <div><label htmlFor={`${id}-name`}>Name</label><input id={`${id}-name`} value={name} required onChange={(e) => setName(e.target.value)} /></div>
          <div><label htmlFor={`${id}-reason`}>Reason (matter, case number)</label><input id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} /></div>
          <div><label htmlFor={`${id}-spaces`}>Space ids</label><input id={`${id}-spaces`} value={spaceIds} placeholder="e.g. 3, 7" list={`${id}-space-list`} onChange={(e) => setSpaceIds(e.target.value)} /></div>
          <div><label htmlFor={`${id}-from`}>From</label><input id={`${id}-from`} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} /></div>
          <div><label htmlFor={`${id}-to`}>To</label><input id={`${id}-to`} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></div>
        </div>
        <datalist id={`${id}-space-list`}>{spaces.filter((s) => s.kind !== 'direct').map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}</datalist>
        <PeoplePicker label="Custodians" selected={custodians} onToggle={(u) => setCustodians((l) => (l.some((x) => x.id === u.id) ? l.filter((x) => x.id !== u.id) : [...l, u]))} />
        {error && <p className="error" role="alert">{error}</p>}
        {done && <p role="status">{done}</p>}
        <div className="row end"><button type="submit" className="primary">Place hold</button></div>
      </form>
    </details>
  );
}
