// E-discovery exports: run a query (spaces, custodians, a time window, or a legal hold's scope)
// and download the files it produced, with the manifest's SHA-256 to check them against.
import { useCallback, useEffect, useId, useState } from 'react';
import { errorText } from '../../api';
import { Gov, type ExportFile, type ExportRecord } from '../../governanceApi';
import { fullTime, parseIds, plural } from '../../lib/format';

const toMillis = (local: string) => (local ? new Date(local).getTime() : undefined);
const fileName = (f: ExportFile | string) => (typeof f === 'string' ? f : f.name);

export default function ExportsPage() {
  const [items, setItems] = useState<ExportRecord[] | null>(null);
  const [error, setError] = useState('');
  const reload = useCallback(() => Gov.exports().then((p) => { setItems(p.items); setError(''); }).catch((e) => setError(errorText(e))), []);
  useEffect(() => { void reload(); }, [reload]);
  return (
    <div className="exports-page">
      <h2>E-discovery exports</h2>
      <NewExport onCreated={reload} />
      {error && <p className="error" role="alert">{error}</p>}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items && items.length === 0 && <p className="empty">No exports yet.</p>}
      {items && items.length > 0 && (
        <div className="table-scroll">
          <table className="data-table">
            <thead><tr><th scope="col">Export</th><th scope="col">Query</th><th scope="col">Contents</th><th scope="col">Files</th></tr></thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.id}>
                  <td><code>{x.id}</code><div className="muted small">{fullTime(x.created_at)} by {x.created_by}</div></td>
                  <td><code className="small">{JSON.stringify(x.query)}</code></td>
                  <td>{plural(x.message_count, 'message')}, {plural(x.file_count, 'file')}<div className="muted small">manifest SHA-256 <code>{x.manifest_sha256}</code></div></td>
                  <td>{(x.files ?? []).length > 0
                    ? <ul className="link-list">{(x.files ?? []).map((f) => <li key={fileName(f)}><a href={Gov.exportFileUrl(x.id, fileName(f))} download>{fileName(f)}</a></li>)}</ul>
                    : <a href={Gov.exportFileUrl(x.id, 'manifest.json')} download>manifest.json</a>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function NewExport({ onCreated }: { onCreated: () => void }) {
  const id = useId();
  const [spaceIds, setSpaceIds] = useState('');
  const [custodianIds, setCustodianIds] = useState('');
  const [holdId, setHoldId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  return (
    <form className="card" aria-label="New export" onSubmit={async (e) => {
      e.preventDefault();
      setError('');
      const spaces = parseIds(spaceIds);
      const custodians = parseIds(custodianIds);
      if (spaces === null || custodians === null) { setError('Ids must be numbers separated by commas.'); return; }
      const query: Record<string, unknown> = {};
      if (spaces.length) query.space_ids = spaces;
      if (custodians.length) query.custodian_ids = custodians;
      if (holdId.trim()) query.hold_id = Number(holdId);
      if (from) query.from = toMillis(from);
      if (to) query.to = toMillis(to);
      setBusy(true);
      try {
        const x = await Gov.createExport(query);
        setDone(`Export ${x.id}: ${plural(x.message_count, 'message')} in ${plural(x.file_count, 'file')}.`);
        onCreated();
      } catch (err) { setError(errorText(err)); } finally { setBusy(false); }
    }}>
      <h3>New export</h3>
      <div className="form-grid">
        <div><label htmlFor={`${id}-spaces`}>Space ids</label><input id={`${id}-spaces`} value={spaceIds} onChange={(e) => setSpaceIds(e.target.value)} placeholder="e.g. 3, 7" /></div>
        <div><label htmlFor={`${id}-custodians`}>Custodian user ids</label><input id={`${id}-custodians`} value={custodianIds} onChange={(e) => setCustodianIds(e.target.value)} /></div>
        <div><label htmlFor={`${id}-hold`}>Legal hold id</label><input id={`${id}-hold`} inputMode="numeric" value={holdId} onChange={(e) => setHoldId(e.target.value)} /></div>
        <div><label htmlFor={`${id}-from`}>From</label><input id={`${id}-from`} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} /></div>
        <div><label htmlFor={`${id}-to`}>To</label><input id={`${id}-to`} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></div>
        <div><button type="submit" className="primary" disabled={busy}>{busy ? 'Exporting…' : 'Run export'}</button></div>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {done && <p role="status">{done}</p>}
    </form>
  );
}
