// Policy templates: every key with its versions, one version's document, the difference between
// two versions, a new version or a clone, and — for a space — a dry run of what a version would do
// to its recent messages before assigning it.
import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import { errorText } from '../../api';
import { Gov, type DryRun, type TemplateChange, type TemplateVersion, type ValidationIssue } from '../../governanceApi';
import { plural } from '../../lib/format';
import { listTypes } from '../../lib/phi';
import { go, href } from '../../lib/route';
import SpacePicker, { type PickedSpace } from '../../components/SpacePicker';

const show = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));
const pretty = (doc: unknown) => JSON.stringify(doc, null, 2);

export default function TemplatesPage({ templateKey }: { templateKey?: string }) {
  const [all, setAll] = useState<TemplateVersion[] | null>(null);
  const [error, setError] = useState('');
  const reload = useCallback(() => Gov.templates().then((p) => { setAll(p.items); setError(''); }).catch((e) => setError(errorText(e))), []);
  useEffect(() => { void reload(); }, [reload]);

  const byKey = useMemo(() => {
    const map = new Map<string, TemplateVersion[]>();
    for (const t of all ?? []) map.set(t.key, [...(map.get(t.key) ?? []), t]);
    for (const list of map.values()) list.sort((a, b) => a.version - b.version);
    return map;
  }, [all]);

  if (error) return <p className="error" role="alert">{error}</p>;
  if (!all) return <p className="muted">Loading templates…</p>;
  if (templateKey) {
    const versions = byKey.get(templateKey);
    if (!versions) return <p>No template called {templateKey}. <a href={href.compliance('templates')}>All templates</a></p>;
    return <TemplateDetail key={templateKey} versions={versions} onChanged={reload} />;
  }
  return (
    <div className="templates-page">
      <h2>Policy templates</h2>
      <div className="table-scroll">
        <table className="data-table templates-table">
          <thead><tr><th scope="col">Template</th><th scope="col">Key</th><th scope="col">Latest</th><th scope="col">PHI</th><th scope="col">Moderation</th><th scope="col">Spaces</th></tr></thead>
          <tbody>
            {[...byKey.entries()].map(([key, versions]) => {
              const latest = versions[versions.length - 1]!;
              const doc = latest.document as Record<string, unknown>;
              return (
                <tr key={key}>
                  <td><a href={href.compliance('templates', key)}>{latest.name}</a>{latest.builtin ? <span className="pill"> built-in</span> : null}
                    <div className="muted small">{latest.description}</div></td>
                  <td><code>{key}</code></td>
                  <td>v{latest.version}{versions.length > 1 ? <span className="muted small"> ({plural(versions.length, 'version')})</span> : null}</td>
                  <td>{String(doc.phi ?? '')}</td>
                  <td>{String(doc.moderation ?? '')}</td>
                  <td>{versions.reduce((n, v) => n + (v.space_count ?? 0), 0)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <NewTemplate onCreated={(t) => { void reload().then(() => go(href.compliance('templates', t.key))); }} />
    </div>
  );
}

/** A JSON document editor with server-side validation. */
function DocumentEditor({ initial, submitLabel, onSubmit }: { initial: string; submitLabel: string; onSubmit: (doc: unknown) => Promise<void> }) {
  const id = useId();
  const [text, setText] = useState(initial);
  const [issues, setIssues] = useState<ValidationIssue[] | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const parse = (): unknown => {
    try { return JSON.parse(text); } catch (e) { setError(`Not valid JSON: ${(e as Error).message}`); return undefined; }
  };
  const validate = async (): Promise<boolean> => {
    setError('');
    const doc = parse();
    if (doc === undefined) return false;
    try {
      const r = await Gov.validate(doc);
      setIssues(r.issues ?? []);
      return r.valid;
    } catch (e) { setError(errorText(e)); return false; }
  };
  return (
    <form onSubmit={async (e) => {
      e.preventDefault();
      setBusy(true);
      try {
        if (!(await validate())) return;
        await onSubmit(parse());
      } catch (err) { setError(errorText(err)); } finally { setBusy(false); }
    }}>
      <label htmlFor={`${id}-doc`}>Template document (JSON)</label>
      <textarea id={`${id}-doc`} className="json-edit" value={text} spellCheck={false} onChange={(e) => { setText(e.target.value); setIssues(null); }} />
      {issues && issues.length === 0 && <p className="pill good" role="status">Valid</p>}
      {issues && issues.length > 0 && (
        <ul className="error" role="alert" aria-label="Problems in the document">
          {issues.map((i, n) => <li key={n}><code>{i.path || '/'}</code>: {i.message} <span className="muted small">({i.code})</span></li>)}
        </ul>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <div className="row end">
        <button type="button" className="secondary" onClick={() => void validate()}>Validate</button>
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Saving…' : submitLabel}</button>
      </div>
    </form>
  );
}

function NewTemplate({ onCreated }: { onCreated: (t: TemplateVersion) => void }) {
  const starter = pretty({ key: 'new-template', name: 'New template', description: '', audience: 'staff', joining: 'open', posting: 'members', threads: 'members', moderation: 'none', phi: 'warn' });
  return (
    <details className="card">
      <summary>Create a template from a document</summary>
      <DocumentEditor initial={starter} submitLabel="Create template" onSubmit={async (doc) => onCreated(await Gov.createTemplate(doc))} />
    </details>
  );
}

function TemplateDetail({ versions, onChanged }: { versions: TemplateVersion[]; onChanged: () => Promise<void> }) {
  const id = useId();
  const latest = versions[versions.length - 1]!;
  const key = latest.key;
  const [version, setVersion] = useState(latest.version);
  const shown = versions.find((v) => v.version === version) ?? latest;
  const [from, setFrom] = useState(Math.max(1, latest.version - 1));
  const [to, setTo] = useState(latest.version);
  // The result keeps the versions it compared: the pickers may have moved on since.
  const [compared, setCompared] = useState<{ from: number; to: number; changes: TemplateChange[] } | null>(null);
  const changes = compared?.changes ?? null;
  const [diffError, setDiffError] = useState('');
  const [cloneKey, setCloneKey] = useState('');
  const [cloneName, setCloneName] = useState('');
  const [cloneError, setCloneError] = useState('');
  const [saved, setSaved] = useState('');

  const runDiff = async () => {
    setDiffError('');
    const pair = { from, to };
    try { setCompared({ ...pair, changes: (await Gov.diff(key, pair.from, pair.to)).changes }); } catch (e) { setDiffError(errorText(e)); }
  };
  const options = versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>);

  return (
    <div className="template-detail">
      <p><a href={href.compliance('templates')}>All templates</a></p>
      <h2>{latest.name} <code className="muted small">{key}</code></h2>
      <p className="muted">{latest.description}</p>
      {saved && <p className="composer-notice" role="status">{saved}</p>}

      <section className="card" aria-labelledby={`${id}-doc-title`}>
        <div className="page-head">
          <h3 id={`${id}-doc-title`}>Version {shown.version}{shown.builtin ? ' (built-in)' : ''} · used by {plural(shown.space_count ?? 0, 'space')}</h3>
          <span className="row">
            <label htmlFor={`${id}-version`}>Version</label>
            <select id={`${id}-version`} value={version} onChange={(e) => setVersion(Number(e.target.value))}>{options}</select>
          </span>
        </div>
        <SpacesUnder key={shown.version} templateKey={key} version={shown.version} count={shown.space_count ?? 0} />
        <pre className="json-view">{pretty(shown.document)}</pre>
      </section>

      {versions.length > 1 && (
        <section className="card" aria-labelledby={`${id}-diff-title`}>
          <h3 id={`${id}-diff-title`}>Compare versions</h3>
          <div className="row">
            <label htmlFor={`${id}-from`}>From</label>
            <select id={`${id}-from`} value={from} onChange={(e) => setFrom(Number(e.target.value))}>{options}</select>
            <label htmlFor={`${id}-to`}>To</label>
            <select id={`${id}-to`} value={to} onChange={(e) => setTo(Number(e.target.value))}>{options}</select>
            <button type="button" className="secondary small" onClick={() => void runDiff()}>Compare</button>
          </div>
          {diffError && <p className="error" role="alert">{diffError}</p>}
          {compared && changes && changes.length === 0 && <p className="muted">No differences between v{compared.from} and v{compared.to}.</p>}
          {changes && changes.length > 0 && (
            <table className="data-table template-diff">
              <thead><tr><th scope="col">Setting</th><th scope="col">v{compared?.from}</th><th scope="col">v{compared?.to}</th></tr></thead>
              <tbody>{changes.map((c) => (
                <tr key={c.path}><td><code>{c.path}</code></td><td className="diff-from"><code>{show(c.from)}</code></td><td className="diff-to"><code>{show(c.to)}</code></td></tr>
              ))}</tbody>
            </table>
          )}
        </section>
      )}

      <ApplyToSpace templateKey={key} versions={versions} onAssigned={(text) => { setSaved(text); void onChanged(); }} />

      <details className="card">
        <summary>New version</summary>
        <p className="hint">Spaces keep the version they run under until you assign the new one.</p>
        {/* A document names the version it is stored as: the next one. */}
        <DocumentEditor initial={pretty({ ...latest.document, version: latest.version + 1 })} submitLabel="Save as a new version" onSubmit={async (doc) => {
          const t = await Gov.newVersion(key, doc);
          setSaved(`Saved version ${t.version}.`);
          await onChanged();
          setVersion(t.version);
        }} />
      </details>

      <details className="card">
        <summary>Clone as a new template</summary>
        <form className="form-grid" onSubmit={async (e) => {
          e.preventDefault();
          setCloneError('');
          try {
            const t = await Gov.cloneTemplate(key, cloneKey.trim(), cloneName.trim());
            await onChanged();
            go(href.compliance('templates', t.key));
          } catch (err) { setCloneError(errorText(err)); }
        }}>
          <div><label htmlFor={`${id}-ckey`}>New key</label><input id={`${id}-ckey`} value={cloneKey} required pattern="[a-z0-9][a-z0-9-]*" onChange={(e) => setCloneKey(e.target.value)} /></div>
          <div><label htmlFor={`${id}-cname`}>Name</label><input id={`${id}-cname`} value={cloneName} required onChange={(e) => setCloneName(e.target.value)} /></div>
          <div><button type="submit" className="primary">Clone</button></div>
        </form>
        {cloneError && <p className="error" role="alert">{cloneError}</p>}
      </details>
    </div>
  );
}

/** Dry run a version against a space's recent messages, then assign it with a reason. */
/** A dry run's reasons a file would be refused, as compliance reads them. */
const FILE_REFUSALS: Record<string, string> = {
  attachments_not_allowed: 'no files allowed',
  attachment_type_not_allowed: 'type not allowed',
  attachment_too_large: 'too large',
};

// The spaces a version governs, read when opened: what assigning a new version would change.
function SpacesUnder({ templateKey, version, count }: { templateKey: string; version: number; count: number }) {
  const [open, setOpen] = useState(false);
  const [spaces, setSpaces] = useState<TemplateVersion['spaces'] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!open || spaces) return;
    let live = true;
    Gov.template(templateKey, version)
      .then((t) => { if (live) setSpaces(t.spaces ?? []); })
      .catch((e) => { if (live) setError(errorText(e)); });
    return () => { live = false; };
  }, [open, spaces, templateKey, version]);
  if (count === 0) return null;
  return (
    <details className="spaces-under" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Which spaces</summary>
      {error && <p className="error" role="alert">{error}</p>}
      {!spaces && !error && <p className="muted">Loading…</p>}
      {spaces && (
        <ul className="plain-list">
          {spaces.map((s) => (
            <li key={s.id}>{s.name || `#${s.id}`} <span className="muted small">{s.kind}{s.archived ? ' · archived' : ''}</span></li>
          ))}
        </ul>
      )}
    </details>
  );
}

function ApplyToSpace({ templateKey, versions, onAssigned }: { templateKey: string; versions: TemplateVersion[]; onAssigned: (text: string) => void }) {
  const id = useId();
  const [picked, setPicked] = useState<PickedSpace[]>([]);
  const [version, setVersion] = useState(versions[versions.length - 1]!.version);
  const [limit, setLimit] = useState('200');
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<DryRun | null>(null);
  const [error, setError] = useState('');
  const sid = picked[0]?.id ?? 0;
  const valid = sid > 0;
  // The messages the version would treat differently: anything but allowed, or files it would refuse.
  const affected = (result?.items ?? []).filter((i) => i.action !== 'allowed' || (i.file_refusals ?? []).length > 0);

  const dryRun = async () => {
    setError('');
    try { setResult(await Gov.dryRun(sid, templateKey, version, Number(limit) || 200)); } catch (e) { setError(errorText(e)); }
  };
  const assign = async () => {
    setError('');
    if (!reason.trim()) { setError('Give a reason: it is kept in the audit trail.'); return; }
    try {
      const s = await Gov.assign(sid, templateKey, version, reason.trim());
      setReason('');
      onAssigned(`${s.name} now runs under ${templateKey} v${version}.`);
    } catch (e) { setError(errorText(e)); }
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Apply to a space</h3>
      <SpacePicker label="Space" max={1} selected={picked}
        onToggle={(s) => { setPicked((l) => (l.some((x) => x.id === s.id) ? [] : [s])); setResult(null); }} />
      <div className="form-grid">
        <div>
          <label htmlFor={`${id}-ver`}>Version</label>
          <select id={`${id}-ver`} value={version} onChange={(e) => { setVersion(Number(e.target.value)); setResult(null); }}>
            {versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
          </select>
        </div>
        <div><label htmlFor={`${id}-limit`}>Messages to check</label><input id={`${id}-limit`} type="number" min={1} max={1000} value={limit} onChange={(e) => setLimit(e.target.value)} /></div>
        <div><button type="button" className="secondary" disabled={!valid} onClick={() => void dryRun()}>Dry run</button></div>
      </div>
      {result && (
        <div className="dry-run" role="status">
          <p>
            {plural(result.messages_checked, 'message')} checked: {result.allowed} allowed, {result.warned} warned, {result.held} held,{' '}
            {result.blocked} blocked, {result.redacted} redacted, {result.pre_moderated} pre-moderated.
            {(result.with_refused_files ?? 0) > 0 && ` ${plural(result.with_refused_files ?? 0, 'message')} ${result.with_refused_files === 1 ? 'carries' : 'carry'} files this version would not take.`}
            {(result.files_not_screened ?? 0) > 0 && ` ${plural(result.files_not_screened ?? 0, 'text file')} too large to read here (names checked).`}
          </p>
          {affected.length > 0 && (
            <table className="data-table">
              <thead><tr><th scope="col">Message</th><th scope="col">Would be</th><th scope="col">Found</th><th scope="col">Files</th></tr></thead>
              <tbody>{affected.slice(0, 100).map((i) => (
                <tr key={i.message_id}>
                  <td><a href={href.space(sid, i.message_id)}>{i.message_id}</a></td><td>{i.action}</td><td>{listTypes(i.finding_types ?? [])}</td>
                  <td>{(i.file_refusals ?? []).map((f) => FILE_REFUSALS[f.code] ?? f.code).join(', ')}</td>
                </tr>
              ))}</tbody>
            </table>
          )}
        </div>
      )}
      <div className="form-grid">
        <div><label htmlFor={`${id}-reason`}>Reason for the change</label><input id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} /></div>
        <div><button type="button" className="primary" disabled={!valid} onClick={() => void assign()}>Assign v{version}</button></div>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}
