// The audit trail: whether the hash chain verifies, a search by actor, action, object, outcome
// and time, and exports (CSV, NDJSON, FHIR AuditEvent) of a time range.
import { useCallback, useEffect, useId, useState } from 'react';
import { errorText, type UserRef } from '../../api';
import PersonField from '../../components/PersonField';
import StepUpConfirm from '../../components/StepUpConfirm';
import {
  Gov, type AuditFilter, type AuditRecord, type AuditVerify, type AuditWitness, type InclusionProof, type SigningKeyChange,
  type SigningKeys,
} from '../../governanceApi';
import { fullTime, plural } from '../../lib/format';

/** A datetime-local value ("2026-11-29T18:05") as UTC milliseconds for the API, or ''. */
const toMillis = (local: string) => (local ? String(new Date(local).getTime()) : '');

export default function AuditPage() {
  return (
    <div className="audit-page">
      <Verification />
      <Search />
    </div>
  );
}

/** The chain's last verdict; a verification runs on the server and this polls it until done. */
function Verification() {
  const [result, setResult] = useState<AuditVerify | null>(null);
  const [keys, setKeys] = useState<SigningKeys | null>(null);
  const [error, setError] = useState('');
  const [starting, setStarting] = useState(false);
  const running = result?.running ?? false;
  const load = useCallback(async () => {
    try { setResult(await Gov.verification()); setError(''); } catch (e) { setError(errorText(e)); }
  }, []);
  const loadKeys = useCallback(async () => {
    try { setKeys(await Gov.signingKeys()); } catch (e) { setError(errorText(e)); }
  }, []);
  useEffect(() => { void load(); void loadKeys(); }, [load, loadKeys]);
  // While one runs, its progress and then its verdict.
  useEffect(() => {
    if (!running) return undefined;
    const timer = window.setInterval(() => { void load(); }, 1000);
    return () => window.clearInterval(timer);
  }, [running, load]);
  const start = async () => {
    setStarting(true);
    setError('');
    try { setResult(await Gov.startVerification()); } catch (e) { setError(errorText(e)); } finally { setStarting(false); }
  };
  const verdict = result && result.ok !== null ? result : null;
  const state = verdict ? (verdict.ok ? 'verify-ok' : 'verify-bad') : '';
  return (
    <section className={`card verify ${state}`} aria-labelledby="verify-title" aria-busy={running}>
      <div>
        <h2 id="verify-title">Chain verification</h2>
        {verdict && (
          <>
            <p className="verify-status" role="status" data-testid="audit-verify-status">
              {verdict.ok ? 'Chain verified' : `Chain broken${verdict.first_bad_seq ? ` at record ${verdict.first_bad_seq}` : ''}`}
            </p>
            <p className="muted small" data-testid="audit-verify-counts">
              {plural(verdict.records_checked ?? 0, 'record')} and {plural(verdict.checkpoints_checked ?? 0, 'checkpoint')} checked{verdict.head_seq !== null ? ` · newest record ${verdict.head_seq}` : ''}
              {verdict.key_changes ? ` · ${plural(verdict.key_changes, 'signing key change')} followed from the first key` : ''}
              {verdict.checked_at ? ` · ${fullTime(verdict.checked_at)}` : ''}
              {verdict.started_by ? ` · by ${verdict.started_by}` : ''}
            </p>
            {!verdict.ok && verdict.problem && <p className="error">{verdict.problem}</p>}
            {result?.anchored === false && (
              <p className="error" data-testid="audit-unanchored">
                New records are not being signed: when the server started, the trail did not continue its last signed
                checkpoint.
              </p>
            )}
          </>
        )}
        {result && !verdict && !running && <p className="muted" data-testid="audit-verify-never">Not verified yet.</p>}
        {running && (
          <p className="muted" data-testid="audit-verify-running">
            Verifying… {plural(result?.running_records_checked ?? 0, 'record')} checked so far
          </p>
        )}
        {result?.signed_tree && (
          <p className="muted small" data-testid="audit-signed-tree">
            Last signed tree: {plural(result.signed_tree.size, 'record')} · root{' '}
            <code title={result.signed_tree.root}>{result.signed_tree.root.slice(0, 16)}…</code> · {fullTime(result.signed_tree.time)}
          </p>
        )}
        {keys && <KeysLine keys={keys} />}
        {result && <WitnessLine witness={result.witness} />}
        {!result && !error && <p className="muted">Loading…</p>}
        {error && <p className="error" role="alert">{error}</p>}
      </div>
      <div className="verify-actions">
        <button type="button" className="secondary" onClick={() => void start()} disabled={starting || running}>
          {running ? 'Verifying…' : 'Verify now'}
        </button>
        <SigningKey onChanged={() => { void load(); void loadKeys(); }} />
      </div>
    </section>
  );
}

const keyStart = (hex: string) => <code title={hex}>{hex.slice(0, 16)}…</code>;

/**
 * The key signing the checkpoints, since when, and when the server changes it next; opened, the
 * first key in full (to compare with the copy of signing.pub kept off the server) and every
 * hand-over from it.
 */
export function KeysLine({ keys }: { keys: SigningKeys }) {
  const changes = keys.changes ?? [];
  return (
    <details className="small audit-keys" data-testid="audit-keys">
      <summary className="muted">
        {keys.public_key ? <>Signed by key {keyStart(keys.public_key)}</> : 'Checkpoints are not being signed now'}
        {keys.public_key && keys.since != null
          ? ` since ${fullTime(keys.since)}${keys.since_seq ? ` (record ${keys.since_seq})` : ''}` : ''}
        {keys.next_change_at != null ? ` · next change ${fullTime(keys.next_change_at)}`
          : keys.change_days === 0 ? ' · changed only on request' : ''}
      </summary>
      <dl>
        <dt>First key (signing.pub): checks every checkpoint</dt>
        <dd><code className="key-hex" data-testid="audit-anchor-key">{keys.anchor_public_key ?? 'unknown'}</code></dd>
        {keys.public_key && (
          <>
            <dt>Key in use</dt>
            <dd><code className="key-hex" data-testid="audit-current-key">{keys.public_key}</code></dd>
          </>
        )}
      </dl>
      {changes.length > 0 ? (
        <ol className="key-changes" aria-label="Signing key changes">
          {changes.map((c) => (
            <li key={`${c.seq}-${c.public_key}`}>
              At record {c.seq}, {fullTime(c.time)}: {keyStart(c.previous_public_key)} handed over to {keyStart(c.public_key)}
            </li>
          ))}
        </ol>
      ) : <p className="muted">The first key has signed every checkpoint.</p>}
      {keys.problem && <p className="error">{keys.problem}</p>}
    </details>
  );
}

/**
 * Hands checkpoint signing over to a new key while the server runs: on a schedule, when someone
 * who could read the key leaves, or at once if it may have been copied. Confirmed with the
 * password (and code); the change, its reason and both public keys go on the trail.
 */
function SigningKey({ onChanged }: { onChanged: () => void }) {
  const id = useId();
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [changed, setChanged] = useState<SigningKeyChange | null>(null);
  return (
    <>
      <button type="button" className="secondary" onClick={() => { setReason(''); setAsking(true); }}>Change signing key</button>
      {changed && (
        <p className="small" role="status" data-testid="audit-key-changed">
          Signing key changed at record {changed.seq}: checkpoints are now signed by{' '}
          <code title={changed.public_key}>{changed.public_key.slice(0, 16)}…</code>. The first key&apos;s public half still checks every
          checkpoint.
        </p>
      )}
      {asking && (
        <StepUpConfirm title="Change the checkpoint signing key?" confirmLabel="Change key" busyLabel="Changing…"
          onClose={() => setAsking(false)}
          onConfirm={async (password, code) => {
            setChanged(await Gov.changeSigningKey(password, code, reason.trim()));
            setAsking(false);
            onChanged();
          }}>
          <p>
            The key in use signs over to a new key, which signs every checkpoint from now on; the old key&apos;s secret is
            deleted. The public key kept off the server still checks the whole trail. Confirm it is you: the change is
            recorded in the audit trail.
          </p>
          <div>
            <label htmlFor={`${id}-reason`}>Reason (optional)</label>
            <input id={`${id}-reason`} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)}
              placeholder="e.g. yearly key change" />
          </div>
        </StepUpConfirm>
      )}
    </>
  );
}

/** Where the signed checkpoints go off this host, and whether they are getting there. */
export function WitnessLine({ witness }: { witness: AuditWitness | null | undefined }) {
  if (!witness) {
    return (
      <p className="muted small" data-testid="audit-witness">
        No witness off the host: the signed checkpoints are kept on this server only.
      </p>
    );
  }
  const how = witness.tls ? 'over TLS' : 'without encryption';
  const parts = [
    witness.connected ? 'connected' : 'not reachable now; they are sent once it is back',
    witness.last_sent_at ? `last sent ${fullTime(witness.last_sent_at)}` : '',
    witness.pending > 0 ? `${plural(witness.pending, 'message')} waiting` : '',
    witness.dropped > 0 ? `${plural(witness.dropped, 'checkpoint')} dropped from a full queue` : '',
    witness.feed ? `every record too${witness.feed_behind ? `, ${plural(witness.feed_behind, 'record')} still to send` : ''}` : '',
  ].filter(Boolean);
  return (
    <p className={witness.connected ? 'muted small' : 'error'} data-testid="audit-witness">
      Checkpoints go to {witness.address} {how}: {parts.join(' · ')}
    </p>
  );
}

const EMPTY: AuditFilter = {
  actor_id: '', action: '', object_type: '', object_id: '', outcome: '', from: '', to: '', patient: '', patient_ref: '',
};

/** A record's patient references: one, or several separated by single spaces. */
const patientRefs = (r: AuditRecord): string[] => (r.patient_ref ? r.patient_ref.split(' ').filter(Boolean) : []);

function Search() {
  const [form, setForm] = useState<AuditFilter>(EMPTY);
  const [query, setQuery] = useState<AuditFilter>(EMPTY);
  // The actor filter, by person: form.actor_id is their id.
  const [actor, setActor] = useState<UserRef | null>(null);
  const chooseActor = (u: UserRef | null) => { setActor(u); setForm((f) => ({ ...f, actor_id: u ? String(u.id) : '' })); };
  const [items, setItems] = useState<AuditRecord[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [open, setOpen] = useState<number | null>(null);

  const apiFilter = (f: AuditFilter): AuditFilter => ({ ...f, from: toMillis(f.from ?? ''), to: toMillis(f.to ?? '') });

  useEffect(() => {
    let cancelled = false;
    Gov.audit(apiFilter(query))
      .then((p) => { if (!cancelled) { setItems(p.items); setCursor(p.next_cursor); setError(''); } })
      .catch((e) => { if (!cancelled) setError(errorText(e)); });
    return () => { cancelled = true; };
  }, [query]);

  const more = async () => {
    try {
      const p = await Gov.audit({ ...apiFilter(query), cursor });
      setItems((l) => [...(l ?? []), ...p.items]);
      setCursor(p.next_cursor);
    } catch (e) { setError(errorText(e)); }
  };

  const field = (name: keyof AuditFilter, label: string, props: Record<string, unknown> = {}) => (
    <div>
      <label htmlFor={`audit-${name}`}>{label}</label>
      <input id={`audit-${name}`} value={form[name] ?? ''} onChange={(e) => setForm((f) => ({ ...f, [name]: e.target.value }))} {...props} />
    </div>
  );
  const range = { from: toMillis(query.from ?? ''), to: toMillis(query.to ?? '') };

  return (
    <section aria-labelledby="audit-search-title">
      <h2 id="audit-search-title">Search the trail</h2>
      <form className="form-grid" role="search" aria-label="Search audit records" onSubmit={(e) => { e.preventDefault(); setQuery(form); }}>
        <PersonField label="Actor" chosen={actor} onChoose={chooseActor} includeDisabled />
        {field('action', 'Action', { placeholder: 'e.g. message.post' })}
        {field('object_type', 'Object type', { placeholder: 'space, message, user…' })}
        {field('object_id', 'Object id')}
        {form.patient_ref
          ? (
            <div>
              <span className="field-label">Patient</span>
              <span className="row" data-testid="audit-patient-ref">
                <code className="small">{form.patient_ref}</code>
                <button type="button" className="link" onClick={() => setForm((f) => ({ ...f, patient_ref: '' }))}
                  aria-label="Any patient">×</button>
              </span>
            </div>
          )
          : field('patient', 'Patient MRN', { placeholder: 'records that name this patient', autoComplete: 'off', spellCheck: false })}
        <div>
          <label htmlFor="audit-outcome">Outcome</label>
          <select id="audit-outcome" value={form.outcome} onChange={(e) => setForm((f) => ({ ...f, outcome: e.target.value }))}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="denied">Denied</option>
            <option value="failure">Failure</option>
          </select>
        </div>
        {field('from', 'From', { type: 'datetime-local' })}
        {field('to', 'To', { type: 'datetime-local' })}
        <div className="row">
          <button type="submit" className="primary">Search</button>
          <button type="button" className="secondary" onClick={() => { setActor(null); setForm(EMPTY); setQuery(EMPTY); }}>Clear</button>
        </div>
      </form>
      <p className="row small">
        Export {query.from || query.to ? 'this time range' : 'everything'}:
        <a href={Gov.auditExportUrl('csv', range)} download>CSV</a>
        <a href={Gov.auditExportUrl('ndjson', range)} download>NDJSON</a>
        <a href={Gov.auditExportUrl('fhir', range)} download>FHIR AuditEvent</a>
      </p>
      {error && <p className="error" role="alert">{error}</p>}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items && items.length === 0 && <p className="empty">No records match.</p>}
      {items && items.length > 0 && (
        <div className="table-scroll">
          <table className="data-table audit-table">
            <thead>
              <tr><th scope="col">Seq</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Outcome</th><th scope="col">Reason</th></tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <AuditRow key={r.seq} r={r} open={open === r.seq} onToggle={() => setOpen((o) => (o === r.seq ? null : r.seq))}
                  onActor={(u) => { chooseActor(u); setQuery({ ...form, actor_id: String(u.id) }); }}
                  onObject={(type, id) => { const f = { ...form, object_type: type, object_id: id }; setForm(f); setQuery(f); }}
                  onPatient={(ref) => { const f = { ...form, patient: '', patient_ref: ref }; setForm(f); setQuery(f); }} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <button type="button" className="secondary" onClick={() => void more()}>Show older records</button>}
    </section>
  );
}

function AuditRow({ r, open, onToggle, onActor, onObject, onPatient }: {
  r: AuditRecord; open: boolean; onToggle: () => void; onActor: (u: UserRef) => void; onObject: (type: string, id: string) => void;
  onPatient: (ref: string) => void;
}) {
  const patients = patientRefs(r);
  return (
    <>
      <tr>
        <td><button type="button" className="link" aria-expanded={open} onClick={onToggle} aria-label={`Record ${r.seq} details`}>{r.seq}</button></td>
        <td><time dateTime={new Date(r.time).toISOString()}>{fullTime(r.time)}</time></td>
        <td>
          {r.actor
            ? <button type="button" className="link" onClick={() => onActor(r.actor!)} aria-label={`Only records by ${r.actor.display_name}`}>{r.actor.display_name}</button>
            : (r.actor_id || '—')}
          {' '}<span className="muted small">{r.actor ? `@${r.actor.username} · ` : ''}{r.actor_role}</span>
        </td>
        <td>{r.action}</td>
        <td>
          {r.space
            ? <>space <button type="button" className="link" onClick={() => onObject('space', r.object_id)} aria-label={`Only records about ${r.space.name}`}>{r.space.name}</button></>
            : <>{r.object_type}{r.object_id ? ` ${r.object_id}` : ''}</>}
          {patients.length > 0 && (
            <span className="muted small audit-patients">
              {' · '}{plural(patients.length, 'patient')}:{' '}
              {patients.map((ref, i) => (
                <span key={ref}>
                  {i > 0 ? ', ' : ''}
                  <button type="button" className="link" onClick={() => onPatient(ref)} title={ref}
                    aria-label={`Only records about patient ${ref}`}>{ref.replace('Patient/mrn-', '').slice(0, 8)}</button>
                </span>
              ))}
            </span>
          )}
        </td>
        <td><span className={`pill ${r.outcome === 'success' ? 'good' : 'bad'}`}>{r.outcome}</span></td>
        <td>{r.reason}</td>
      </tr>
      {open && (
        <tr className="audit-details">
          <td colSpan={7}>
            <dl className="small">
              {r.address ? <><dt>Address</dt><dd>{r.address}</dd></> : null}
              {r.session_hash ? <><dt>Session</dt><dd><code>{r.session_hash}</code></dd></> : null}
              <dt>Details</dt><dd><code>{typeof r.details === 'string' ? r.details : JSON.stringify(r.details ?? {})}</code></dd>
              <dt>Hash</dt><dd><code>{r.hash}</code></dd>
              <dt>Previous</dt><dd><code>{r.prev_hash}</code></dd>
            </dl>
            <ProofLine seq={r.seq} />
          </td>
        </tr>
      )}
    </>
  );
}

/**
 * Whether a record is in what a checkpoint signed: an RFC 9162 inclusion proof against the last
 * signed tree, checked by the server, and downloadable for anyone to check with the public key.
 */
function ProofLine({ seq }: { seq: number }) {
  const [proof, setProof] = useState<InclusionProof | null>(null);
  const [url, setUrl] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);
  const prove = async () => {
    setBusy(true);
    setError('');
    try {
      const p = await Gov.inclusionProof(seq);
      setProof(p);
      setUrl(URL.createObjectURL(new Blob([JSON.stringify(p, null, 2)], { type: 'application/json' })));
    } catch (e) { setError(errorText(e)); } finally { setBusy(false); }
  };
  return (
    <div className="audit-proof" data-testid="audit-proof">
      {!proof && (
        <button type="button" className="secondary" onClick={() => void prove()} disabled={busy}>
          {busy ? 'Proving…' : 'Prove it was signed'}
        </button>
      )}
      {proof && (
        <p className={proof.verified ? 'small' : 'error'} role="status">
          {proof.verified
            ? `In the signed tree of ${plural(proof.tree_size, 'record')}`
            : 'The proof does not reach the signed root: the tree kept in the database was altered'}
          {' · '}checkpoint signed {fullTime(proof.checkpoint.time)} · root <code>{proof.checkpoint.root.slice(0, 16)}…</code>
          {' · '}{plural(proof.proof.length, 'hash', 'hashes')}{' · '}
          <a href={url} download={`rounds-audit-proof-${seq}.json`}>Download proof</a>
        </p>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
