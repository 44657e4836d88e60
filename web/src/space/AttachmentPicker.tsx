// The composer's files: an "Attach file" button with its file picker, and a chip for each file
// picked, with what the server said about it (see useAttachments for the uploads behind them).
import { useRef } from 'react';
import { formatBytes } from '../lib/attachments';
import { fileFindingPlace, findingTypes, listTypes } from '../lib/phi';
import Icon from '../components/Icon';
import { Highlighted } from './PhiGuard';
import type { Attachments, FileChip } from './useAttachments';

/** A labelled button that opens the file picker; `withText` shows the label beside the icon. */
export function AttachButton({ onFiles, disabled, withText }: { onFiles: (files: File[]) => void; disabled?: boolean; withText?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className={withText ? 'secondary small attach' : 'icon-button attach'} disabled={disabled}
        aria-label={withText ? undefined : 'Attach file'} title={withText ? undefined : 'Attach file'} onClick={() => input.current?.click()}>
        <Icon name="attach" size={withText ? 16 : 20} />{withText && ' Attach file'}
      </button>
      <input ref={input} type="file" multiple hidden tabIndex={-1} aria-label="Files to attach"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = ''; // picking the same file again is a new pick
          if (files.length) onFiles(files);
        }} />
    </>
  );
}

/** The files of a draft, each removable, with its upload's state. */
export function AttachmentChips({ files }: { files: Attachments }) {
  if (files.chips.length === 0) return null;
  return (
    <ul className="attachment-chips" aria-label="Attached files">
      {files.chips.map((c) => <Chip key={c.key} chip={c} onRemove={() => files.remove(c.key)} onConfirm={() => files.confirm(c.key)} />)}
    </ul>
  );
}

function Chip({ chip, onRemove, onConfirm }: { chip: FileChip; onRemove: () => void; onConfirm: () => void }) {
  const name = chip.attachment?.name ?? chip.file.name;
  const findings = chip.findings ?? [];
  const types = listTypes(findingTypes(findings));
  const { place, both } = fileFindingPlace(findings);
  const total = chip.findingsTotal ?? findings.length;
  const count = findings.some((f) => f.field === 'content') && total > 1 ? ` in ${total.toLocaleString()} places` : '';
  return (
    <li className={`attachment-chip chip-${chip.state}`} data-state={chip.state}>
      <div className="chip-main">
        <Icon name="attach" size={14} />
        <span className="chip-name">{name}</span>
        <span className="chip-size">{formatBytes(chip.attachment?.size ?? chip.file.size)}</span>
        {chip.state === 'uploading' && <span className="chip-status">Uploading…</span>}
        <button type="button" className="icon-button chip-remove" aria-label={`Remove ${name}`} onClick={onRemove}><Icon name="close" size={14} /></button>
      </div>
      {chip.state === 'failed' && <p className="error chip-error" role="alert">Not attached: {chip.error}</p>}
      {(chip.state === 'phi_warning' || chip.state === 'phi_blocked') && (
        <div className={`phi-panel ${chip.state === 'phi_blocked' ? 'phi-block' : 'phi-warn'}`} role="alert" data-phi-state={chip.state}>
          <p className="phi-text">
            {chip.state === 'phi_blocked'
              ? `Not attached: ${place.toLowerCase()} ${both ? 'have' : 'has'} patient information${types ? ` (${types})` : ''}${count}, which this space does not allow. Remove it and attach the file again.`
              : `${place} ${both ? 'look' : 'looks'} like patient information${types ? ` (${types})` : ''}${count}. This space is not approved for it. Attach it anyway only if you are sure.`}
          </p>
          {findings.some((f) => f.field === 'name') && (
            <p className="phi-preview"><Highlighted text={chip.file.name} findings={findings} field="name" /></p>
          )}
          {chip.content !== undefined && findings.some((f) => f.field === 'content') && (
            <pre className="phi-preview file-preview" aria-label={`Where in ${name}`}><Highlighted text={chip.content} findings={findings} field="content" /></pre>
          )}
          {chip.state === 'phi_warning' && (
            <div className="row end">
              <button type="button" className="danger small" onClick={onConfirm}>Attach anyway</button>
            </div>
          )}
        </div>
      )}
    </li>
  );
}
