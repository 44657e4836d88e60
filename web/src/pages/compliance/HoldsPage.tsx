// Legal holds: what they preserve (custodians, spaces, a time window), who placed them, and
// releasing one. A held message is never purged, and one deleted while held keeps
// its final text for e-discovery.
import { useCallback, useEffect, useId, useState } from 'react';
import { errorText, type User } from '../../api';
import { Gov, madeBy, releasedBy, type LegalHold } from '../../governanceApi';
import { fullTime } from '../../lib/format';
import { nameList, peopleNames, toggled } from '../../lib/pick';
import PeoplePicker from '../../components/PeoplePicker';
import SpacePicker, { type PickedSpace } from '../../components/SpacePicker';
import StepUpConfirm from '../../components/StepUpConfirm';

const toMillis = (local: string) => (local ? new Date(local).getTime() : null);

export default function HoldsPage() {
  const [holds, setHolds] = useState<LegalHold[] | null>(null);
  const [error, setError] = useState('');
  const reload = useCallback(() => Gov.holds().then((p) => { setHolds(p.items); setError(''); }).catch((e) => setError(errorText(e))), []);
  useEffect(() => { void reload(); }, [reload]);
  const active = holds?.filter((h) => h.active) ?? [];
  const released = holds?.filter((h) => !h.active) ?? [];
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
  const [releasing, setReleasing] = useState<LegalHold | null>(null);
  return (
    <section aria-label={`${title} holds`}>
      <h3>{title}</h3>
      {holds.length === 0 ? <p className="muted">None.</p> : (
        <div className="table-scroll">
          <table className="data-table holds-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Covers</th><th scope="col">Written</th><th scope="col">Placed</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {holds.map((h) => (
                <tr key={h.id}>
                  <td><strong>{h.name}</strong><div className="muted small">{h.reason}</div></td>
                  <td>
                    <div>Custodians: {h.custodian_ids.length ? nameList(h.custodian_ids, peopleNames(h.custodians)) : 'anyone'}</div>
                    <div>Spaces: {h.space_ids.length ? nameList(h.space_ids, h.spaces) : 'any'}</div>
                  </td>
                  <td>{h.from ? fullTime(h.from) : 'any time'} – {h.to ? fullTime(h.to) : 'now'}</td>
                  <td>{fullTime(h.created_at)} by {madeBy(h)}{h.released_at ? <div className="muted small">Released {fullTime(h.released_at)} by {releasedBy(h)}</div> : null}</td>
                  <td>{h.active && <button type="button" className="secondary small" onClick={() => setReleasing(h)} aria-label={`Release ${h.name}`}>Release</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {releasing && (
        <StepUpConfirm title={`Release “${releasing.name}”?`} confirmLabel="Release hold" busyLabel="Releasing…" danger
          onClose={() => setReleasing(null)}
          onConfirm={async (password, code) => {
            await Gov.releaseHold(releasing.id, password, code);
            setReleasing(null);
            onReleased();
          }}>
          <p>
            Messages it preserved become subject to retention again at the next purge. Confirm it is you:
            releasing is recorded in the audit trail.
          </p>
        </StepUpConfirm>
      )}
    </section>
  );
}

function NewHold({ onCreated }: { onCreated: () => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [reason, setReason] = useState('');
  const [custodians, setCustodians] = useState<User[]>([]);
  const [spaces, setSpaces] = useState<PickedSpace[]>([]);
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
        if (custodians.length === 0 && spaces.length === 0) { setError('A hold names custodians, spaces or both.'); return; }
        try {
          await Gov.createHold({ name: name.trim(), reason: reason.trim(), custodian_ids: custodians.map((u) => u.id), space_ids: spaces.map((s) => s.id), from: toMillis(from), to: toMillis(to) });
          setDone(`Hold “${name.trim()}” placed.`);
          setName(''); setReason(''); setCustodians([]); setSpaces([]); setFrom(''); setTo('');
          onCreated();
        } catch (err) { setError(errorText(err)); }
      }}>
        <div className="form-grid">
          <div><label htmlFor={`${id}-name`}>Name</label><input id={`${id}-name`} value={name} required onChange={(e) => setName(e.target.value)} /></div>
          <div><label htmlFor={`${id}-reason`}>Reason (matter, case number)</label><input id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} /></div>
          <div><label htmlFor={`${id}-from`}>From</label><input id={`${id}-from`} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} /></div>
          <div><label htmlFor={`${id}-to`}>To</label><input id={`${id}-to`} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></div>
        </div>
        <div className="picker-pair">
          <SpacePicker label="Spaces" includeDirect selected={spaces} onToggle={(s) => setSpaces((l) => toggled(l, s))} />
          <PeoplePicker label="Custodians" includeDisabled selected={custodians} onToggle={(u) => setCustodians((l) => toggled(l, u))} />
        </div>
        {error && <p className="error" role="alert">{error}</p>}
        {done && <p role="status">{done}</p>}
        <div className="row end"><button type="submit" className="primary">Place hold</button></div>
      </form>
    </details>
  );
}
