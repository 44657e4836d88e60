// Files attached to a draft. Each is uploaded as soon as it is picked, so the server's verdict on
// its type, size and name shows at once, and the post names the uploads by id. Like a draft's
// text, the files survive switching spaces (kept in memory only, wiped when the session ends), and
// an upload that finishes while its composer is away is found there on return.
import { useSyncExternalStore } from 'react';
import { Api, errorText, type Attachment } from '../api';
import type { PhiFinding } from '../governanceApi';
import { MAX_ATTACHMENTS } from '../lib/attachments';
import { phiRefusal } from '../lib/phi';
import { onWipe } from '../lib/wipe';

/**
 * uploading: on its way. ready: uploaded, goes with the next send. failed: refused (type, size…),
 * never sent. phi_warning: its name (or, for a text file, its content) looks like patient
 * information, uploaded only once the author confirms. phi_blocked: it has patient information
 * this space refuses.
 */
export type FileState = 'uploading' | 'ready' | 'failed' | 'phi_warning' | 'phi_blocked';

export interface FileChip {
  key: string;
  file: File;
  state: FileState;
  /** The server's record once uploaded (its name may differ: a redacting space rewrites it). */
  attachment?: Attachment;
  /** Why it was refused. */
  error?: string;
  /** PHI refusals: where in the name or the content (the first the server lists). */
  findings?: PhiFinding[];
  /** PHI refusals: how many findings there were in all. */
  findingsTotal?: number;
  /** The file's text, read to show where in it the findings are (small text files only). */
  content?: string;
}

/** Text files up to this size are read back to highlight their findings. */
export const PREVIEW_BYTES = 64 * 1024;

const NONE: FileChip[] = [];
const drafts = new Map<string, FileChip[]>();
const inFlight = new Map<string, AbortController>();
const listeners = new Set<() => void>();
let counter = 0;

function change(draft: string, update: (chips: FileChip[]) => FileChip[]) {
  const next = update(drafts.get(draft) ?? NONE);
  if (next.length) drafts.set(draft, next); else drafts.delete(draft);
  for (const listener of listeners) listener();
}

const patch = (draft: string, key: string, values: Partial<FileChip>) =>
  change(draft, (chips) => chips.map((c) => (c.key === key ? { ...c, ...values } : c)));

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => { listeners.delete(listener); };
};

onWipe(() => {
  for (const upload of inFlight.values()) upload.abort();
  inFlight.clear();
  drafts.clear();
  for (const listener of listeners) listener();
});

/** The file's text as the server read it: UTF-8, a byte-order mark kept (it counts in the offsets). */
function readText(file: File): Promise<string | undefined> {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => {
      const bytes = reader.result;
      resolve(bytes && typeof bytes !== 'string' ? new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) : undefined);
    };
    reader.onerror = () => resolve(undefined);
    reader.readAsArrayBuffer(file);
  });
}

async function upload(spaceId: number, draft: string, chip: FileChip, confirmPhi: boolean) {
  const ctrl = new AbortController();
  inFlight.set(chip.key, ctrl);
  patch(draft, chip.key, { state: 'uploading', error: undefined, findings: undefined, findingsTotal: undefined, content: undefined });
  try {
    const attachment = await Api.upload(spaceId, chip.file, confirmPhi, ctrl.signal);
    if (!ctrl.signal.aborted) patch(draft, chip.key, { state: 'ready', attachment });
  } catch (e) {
    if (ctrl.signal.aborted) return; // removed, or the session ended
    const phi = phiRefusal(e);
    if (phi) {
      // The findings' offsets are into the file as sent: read it back to show them in place.
      const inContent = phi.findings.some((f) => f.field === 'content');
      const content = inContent && chip.file.size <= PREVIEW_BYTES ? await readText(chip.file) : undefined;
      if (!ctrl.signal.aborted) patch(draft, chip.key, { state: phi.code, error: phi.text, findings: phi.findings, findingsTotal: phi.total, content });
    }
    else patch(draft, chip.key, { state: 'failed', error: errorText(e) });
  } finally {
    if (inFlight.get(chip.key) === ctrl) inFlight.delete(chip.key);
  }
}

/** Counts toward the limit: everything not refused. */
const counts = (c: FileChip) => c.state !== 'failed' && c.state !== 'phi_blocked';

/** The files of the draft `draft` (the same key as its text) in space `spaceId`. */
export function useAttachments(spaceId: number, draft: string) {
  const chips = useSyncExternalStore(subscribe, () => drafts.get(draft) ?? NONE);
  const ids = chips.flatMap((c) => (c.state === 'ready' && c.attachment ? [c.attachment.id] : []));
  return {
    chips,
    /** The uploads to send with the message. */
    ids,
    /** A file still uploading or waiting for the author's decision: not ready to send. */
    pending: chips.some((c) => c.state === 'uploading' || c.state === 'phi_warning'),
    /** Uploads `files` at once; those past the limit of a message are refused here. */
    add(files: readonly File[]) {
      let room = MAX_ATTACHMENTS - (drafts.get(draft) ?? NONE).filter(counts).length;
      const added: FileChip[] = files.map((file) => (room-- > 0
        ? { key: `file-${++counter}`, file, state: 'uploading' }
        : { key: `file-${++counter}`, file, state: 'failed', error: `A message carries at most ${MAX_ATTACHMENTS} files.` }));
      change(draft, (current) => [...current, ...added]);
      for (const chip of added) if (chip.state === 'uploading') void upload(spaceId, draft, chip, false);
    },
    remove(key: string) {
      inFlight.get(key)?.abort();
      const chip = (drafts.get(draft) ?? NONE).find((c) => c.key === key);
      change(draft, (current) => current.filter((c) => c.key !== key));
      // The server keeps an unposted upload a day; taken off the draft, it goes now. Best effort:
      // a failure leaves it to that clean-up.
      if (chip?.attachment) Api.removeUpload(chip.attachment.id).catch(() => undefined);
    },
    /** The author saw the PHI warning about this file's name and attaches it anyway. */
    confirm(key: string) {
      const chip = (drafts.get(draft) ?? NONE).find((c) => c.key === key);
      if (chip?.state === 'phi_warning') void upload(spaceId, draft, chip, true);
    },
    /** After a send: the files it carried go, and so do the refused ones. */
    sent(sentIds: readonly number[]) {
      change(draft, (current) => current.filter((c) => counts(c) && !(c.attachment && sentIds.includes(c.attachment.id))));
    },
  };
}

export type Attachments = ReturnType<typeof useAttachments>;
