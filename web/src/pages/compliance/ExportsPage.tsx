// E-discovery exports: select messages (deleted ones too) by custodians, spaces, a time window and
// keywords, then download the files the server wrote, checked against the manifest's SHA-256, one
// by one or all in one ZIP archive (which the server builds only from files still as exported), and
// remove them from the server once delivered (the export stays listed, marked removed).
import { useCallback, useEffect, useId, useState } from 'react';
import { errorText, type User } from '../../api';
import { EXPORT_FILES, Gov, madeBy, removedBy, type ExportManifest, type ExportQuery, type ExportRecord } from '../../governanceApi';
import StepUpConfirm from '../../components/StepUpConfirm';
import { fullTime, plural } from '../../lib/format';
import { nameList, peopleNames, toggled } from '../../lib/pick';
import PeoplePicker from '../../components/PeoplePicker';
import SpacePicker, { type PickedSpace } from '../../components/SpacePicker';

const toMillis = (local: string) => (local ? new Date(local).getTime() : null);

function describe(x: ExportRecord): string {
  const q: ExportQuery = x.query;
  const parts = [
    q.custodian_ids?.length ? `custodians ${nameList(q.custodian_ids, peopleNames(x.custodians))}` : '',
    q.space_ids?.length ? `spaces ${nameList(q.space_ids, x.spaces)}` : '',
    q.from ? `from ${fullTime(q.from)}` : '',
    q.to ? `until ${fullTime(q.to)}` : '',
    q.keywords?.length ? plural(q.keywords.length, 'keyword') : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'everything';
}

export default function ExportsPage() {
  const [items, setItems] = useState<ExportRecord[] | null>(null);
  const [error, setError] = useState('');
  const [removing, setRemoving] = useState<ExportRecord | null>(null);
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
          <table className="data-table exports-table">
            <thead><tr><th scope="col">Export</th><th scope="col">Query</th><th scope="col">Contents</th><th scope="col">Files</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.id}>
                  <td><code>{x.id}</code><div className="muted small">{fullTime(x.created_at)} by {madeBy(x)}</div></td>
                  <td>{describe(x)}</td>
                  <td>{plural(x.message_count, 'message')}, {plural(x.file_count, 'file')}<div className="muted small">manifest SHA-256 <code>{x.manifest_sha256}</code></div></td>
                  <td>
                    {x.removed_at ? <span className="muted">Removed from the server {fullTime(x.removed_at)} by {removedBy(x)}</span> : (
                      <ul className="plain-list">
                        <li><a href={Gov.exportArchiveUrl(x.id)} download aria-label={`All files of export ${x.id} (.zip)`}>All files (.zip)</a></li>
                        {EXPORT_FILES.map((f) => <li key={f}><a href={Gov.exportFileUrl(x.id, f)} download>{f}</a></li>)}
                        {x.expires_at ? <li className="muted small">Kept on the server until {fullTime(x.expires_at)}</li> : null}
                      </ul>
                    )}
                  </td>
                  <td>{!x.removed_at && <button type="button" className="secondary small" onClick={() => setRemoving(x)} aria-label={`Remove the files of export ${x.id}`}>Remove files</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {removing && (
        <StepUpConfirm title={`Remove the files of export ${removing.id}?`} confirmLabel="Remove files" busyLabel="Removing…" danger
          onClose={() => setRemoving(null)}
          onConfirm={async (password, code) => {
            await Gov.removeExport(removing.id, password, code);
            setRemoving(null);
            void reload();
          }}>
          <p>
            Do this once they were delivered: the copy of these messages on the server goes, and cannot be
            downloaded again. The export stays listed. Confirm it is you: removing is recorded in the audit trail.
          </p>
        </StepUpConfirm>
      )}
    </div>
  );
}

function NewExport({ onCreated }: { onCreated: () => void }) {
  const id = useId();
  const [spaces, setSpaces] = useState<PickedSpace[]>([]);
  const [custodians, setCustodians] = useState<User[]>([]);
  const [keywords, setKeywords] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<ExportManifest | null>(null);
  return (
    <form className="card" aria-labelledby={`${id}-title`} onSubmit={async (e) => {
      e.preventDefault();
      setError('');
      const query: ExportQuery = {};
      if (spaces.length) query.space_ids = spaces.map((s) => s.id);
      if (custodians.length) query.custodian_ids = custodians.map((u) => u.id);
      const words = keywords.split(',').map((k) => k.trim()).filter(Boolean);
      if (words.length) query.keywords = words;
      if (from) query.from = toMillis(from);
      if (to) query.to = toMillis(to);
      setBusy(true);
      try {
        setDone(await Gov.createExport(query));
        onCreated();
      } catch (err) { setError(errorText(err)); } finally { setBusy(false); }
    }}>
      <h3 id={`${id}-title`}>New export</h3>
      <p className="muted small">Messages of the chosen custodians, in the chosen spaces, or both; none chosen: every message.</p>
      <div className="picker-pair">
        <SpacePicker label="Spaces" includeDirect selected={spaces} onToggle={(s) => setSpaces((l) => toggled(l, s))} />
        <PeoplePicker label="Custodians" includeDisabled selected={custodians} onToggle={(u) => setCustodians((l) => toggled(l, u))} />
      </div>
      <div className="form-grid">
        <div><label htmlFor={`${id}-keywords`}>Keywords (comma-separated)</label><input id={`${id}-keywords`} value={keywords} onChange={(e) => setKeywords(e.target.value)} /></div>
        <div><label htmlFor={`${id}-from`}>From</label><input id={`${id}-from`} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} /></div>
        <div><label htmlFor={`${id}-to`}>To</label><input id={`${id}-to`} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></div>
        <div><button type="submit" className="primary" disabled={busy}>{busy ? 'Exporting…' : 'Run export'}</button></div>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {done && (
        <div role="status" className="export-done">
          <p>Export <code>{done.export_id}</code>: {plural(done.counts.messages ?? 0, 'message')}.</p>
          <ul className="plain-list">
            {done.files.map((f) => (
              <li key={f.name}><a href={Gov.exportFileUrl(done.export_id, f.name)} download>{f.name}</a> <span className="muted small">{f.bytes} bytes · SHA-256 <code>{f.sha256}</code></span></li>
            ))}
            <li><a href={Gov.exportFileUrl(done.export_id, 'manifest.json')} download>manifest.json</a></li>
            <li><a href={Gov.exportArchiveUrl(done.export_id)} download>All files (.zip)</a></li>
          </ul>
        </div>
      )}
    </form>
  );
}
