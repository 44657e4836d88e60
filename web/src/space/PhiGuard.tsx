// The composer's PHI panel: what the server found in a draft, highlighted where it is, and what
// the author can do about it (see usePhiGuard for where the findings come from).
import { useId } from 'react';
import type { PhiFinding } from '../governanceApi';
import { fieldLabel, findingSpans, findingTypes, listTypes, previewMessage, segments } from '../lib/phi';
import type { PhiFields, usePhiGuard } from './usePhiGuard';

/** The highlighted copy of one field: plain text with <mark> over each finding. */
export function Highlighted({ text, findings, field }: { text: string; findings: readonly PhiFinding[]; field: string }) {
  const parts = segments(text, findingSpans(text, findings, field));
  return (
    <>
      {parts.map((p, i) => (p.types
        ? <mark key={i} className="phi-mark" data-phi-type={p.types.join(' ')} title={listTypes(p.types)}>{p.text}</mark>
        : <span key={i}>{p.text}</span>))}
    </>
  );
}

/** The panel under a composer: what was found, where, and what the author can do. */
export function PhiPanel({ fields, guard, onSendAnyway, busy }: {
  fields: PhiFields; guard: ReturnType<typeof usePhiGuard>; onSendAnyway: () => void; busy: boolean;
}) {
  const id = useId();
  const { refusal, preview } = guard;
  let tone: 'warn' | 'block' | 'info';
  let text: string;
  let findings: PhiFinding[];
  if (refusal) {
    findings = refusal.findings;
    const types = listTypes(findingTypes(findings));
    tone = refusal.code === 'phi_blocked' ? 'block' : 'warn';
    text = refusal.code === 'phi_blocked'
      ? `Not sent: patient information is not allowed in this space${types ? ` (${types})` : ''}. Nothing was stored. Remove the highlighted text and send again.`
      : `This looks like patient information${types ? ` (${types})` : ''}. This space is not approved for it. Send anyway only if you are sure.`;
  } else if (preview && preview.findings.length > 0) {
    const said = previewMessage(preview.action, findingTypes(preview.findings));
    if (!said) return null;
    ({ tone, text } = said);
    findings = preview.findings;
  } else {
    return null;
  }
  const fieldsWithFindings = Object.keys(fields).filter((f) => findings.some((x) => x.field === f));
  // What only shows with the end of the author's previous post, as the answer to someone else's, or
  // (an edit) with what follows it: the highlighted text alone would not say why it was found.
  const continued = findings.some((f) => f.across_messages && !f.in_reply && !f.before_next);
  const answered = findings.some((f) => f.in_reply);
  const followed = findings.some((f) => f.before_next);
  return (
    <div className={`phi-panel phi-${tone}`} role={refusal ? 'alert' : 'status'} aria-labelledby={`${id}-text`} data-phi-state={refusal ? refusal.code : `preview-${preview?.action}`}>
      <p id={`${id}-text`} className="phi-text">{text}</p>
      {continued && (
        <p className="phi-across" data-phi-across="">
          Read together with your previous message, this continues patient information. Splitting it across messages does not keep it out.
        </p>
      )}
      {answered && (
        <p className="phi-across" data-phi-across="reply">
          Read as an answer to the message before it, this is patient information. A question and its answer are read together.
        </p>
      )}
      {followed && (
        <p className="phi-across" data-phi-across="next">
          Read with the message after it, this edit makes patient information of the two. What follows a message is read with it.
        </p>
      )}
      {fieldsWithFindings.map((f) => (
        <div key={f} className="phi-field">
          {fieldsWithFindings.length > 1 || f !== 'body' ? <span className="phi-field-label">{fieldLabel(f)}</span> : null}
          <p className="phi-preview">
            <Highlighted text={fields[f] ?? ''} findings={findings} field={f} />
          </p>
        </div>
      ))}
      {refusal?.code === 'phi_warning' && (
        <div className="row end">
          <button type="button" className="danger small" onClick={onSendAnyway} disabled={busy}>Send anyway</button>
        </div>
      )}
    </div>
  );
}
