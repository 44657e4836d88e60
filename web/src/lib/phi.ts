// PHI findings in the composer. The server reports spans as UTF-8 byte offsets into the text it
// scanned; JavaScript strings index UTF-16 code units. These pure functions map one onto the
// other, merge overlapping spans and cut a text into plain and highlighted pieces to render.
import { ApiError, type SpaceTemplate } from '../api';
import type { PhiAction, PhiFinding } from '../governanceApi';

/** UTF-8 length of one code point, as TextEncoder encodes it (a lone surrogate becomes U+FFFD: 3 bytes). */
function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/**
 * Returns a function mapping a UTF-8 byte offset into `text` to a UTF-16 index. An offset inside a
 * character's bytes maps to that character's start (`round: 'down'`, for span starts) or to the
 * index after it (`round: 'up'`, for span ends), so a span never cuts a character in half.
 * Offsets past the end map to text.length.
 */
export function byteIndexer(text: string): (byteOffset: number, round?: 'down' | 'up') => number {
  // starts[i] = byte offset where the code point at UTF-16 index idx[i] begins.
  const starts: number[] = [];
  const idx: number[] = [];
  let bytes = 0;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    starts.push(bytes);
    idx.push(i);
    bytes += utf8Length(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  const total = bytes;
  return (offset: number, round: 'down' | 'up' = 'down') => {
    if (!(offset > 0)) return 0;
    if (offset >= total) return text.length;
    // Binary search for the last code point starting at or before offset.
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid; else hi = mid - 1;
    }
    if (starts[lo] === offset || round === 'down') return idx[lo]!;
    return lo + 1 < idx.length ? idx[lo + 1]! : text.length;
  };
}

/** Byte length of a text in UTF-8 (what the server counts). */
export const utf8ByteLength = (text: string) => new TextEncoder().encode(text).length;

export interface Span { start: number; end: number; types: string[] }

/**
 * The findings for `field`, as UTF-16 [start, end) spans into `text`, sorted, clamped to the text,
 * empty ones dropped and overlapping or touching ones merged (their types united).
 */
export function findingSpans(text: string, findings: readonly PhiFinding[], field: string): Span[] {
  const at = byteIndexer(text);
  const raw = findings
    .filter((f) => f.field === field && Number.isFinite(f.begin) && Number.isFinite(f.end) && f.end > f.begin)
    .map((f) => ({ start: at(f.begin, 'down'), end: at(f.end, 'up'), types: [normalizeType(f.type)] }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Span[] = [];
  for (const s of raw) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) {
      last.end = Math.max(last.end, s.end);
      for (const t of s.types) if (!last.types.includes(t)) last.types.push(t);
    } else {
      merged.push({ ...s, types: [...s.types] });
    }
  }
  return merged;
}

export interface Segment { text: string; types?: string[] }

/** Cuts `text` into plain and highlighted segments by non-overlapping sorted spans. */
export function segments(text: string, spans: readonly Span[]): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  for (const s of spans) {
    if (s.start > pos) out.push({ text: text.slice(pos, s.start) });
    out.push({ text: text.slice(Math.max(pos, s.start), s.end), types: s.types });
    pos = Math.max(pos, s.end);
  }
  if (pos < text.length || out.length === 0) out.push({ text: text.slice(pos) });
  return out;
}

export const normalizeType = (type: string) => type.toLowerCase();

const TYPE_LABELS: Record<string, string> = {
  name: 'patient name', address: 'address', zip: 'ZIP code', date: 'date', age: 'age over 89', phone: 'phone number',
  email: 'email address', ssn: 'Social Security number', mrn: 'medical record number', health_plan: 'health plan number',
  account: 'account number', card: 'payment card number', license: 'licence number', npi: 'NPI', vehicle: 'vehicle identifier',
  device: 'device identifier', url: 'web address', ip: 'IP address',
};

/** A reader's label for a finding type code ("ssn" → "Social Security number"). */
export const phiTypeLabel = (type: string) => TYPE_LABELS[normalizeType(type)] ?? normalizeType(type).replace(/_/g, ' ');

/** The distinct types among findings, in first-seen order. */
export function findingTypes(findings: readonly Pick<PhiFinding, 'type'>[]): string[] {
  const seen: string[] = [];
  for (const f of findings) { const t = normalizeType(f.type); if (!seen.includes(t)) seen.push(t); }
  return seen;
}

/** A message's phi_types as a list (the server may send an array or comma-separated codes). */
export function messagePhiTypes(value: readonly string[] | string | undefined | null): string[] {
  const list = typeof value === 'string' ? value.split(',') : value ?? [];
  return findingTypes(list.map((t) => t.trim()).filter(Boolean).map((type) => ({ type })));
}

/** "phone number and Social Security number" */
export function listTypes(types: readonly string[]): string {
  const labels = types.map(phiTypeLabel);
  if (labels.length <= 1) return labels[0] ?? '';
  return `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}

/** The human name of a field a finding is in. */
export function fieldLabel(field: string): string {
  if (field === 'body') return 'Message';
  if (field === 'title') return 'Title';
  const m = /^poll_options\/(\d+)$/.exec(field);
  return m ? `Option ${Number(m[1]) + 1}` : field;
}

/** What the composer tells the author for a preview action (null: nothing to say). */
export function previewMessage(action: PhiAction, types: readonly string[]): { tone: 'warn' | 'block' | 'info'; text: string } | null {
  const list = listTypes(types);
  switch (action) {
    case 'warn': return { tone: 'warn', text: `This may contain patient information (${list}). This space is not approved for it: you will be asked to confirm.` };
    case 'hold': return { tone: 'warn', text: `This may contain patient information (${list}). It will wait for a moderator before anyone sees it.` };
    case 'block': return { tone: 'block', text: `Patient information is not allowed in this space (${list}). Remove the highlighted text to send.` };
    case 'redact': return { tone: 'info', text: `Patient information (${list}) will be replaced with [REDACTED] when you send.` };
    default: return null;
  }
}

/** The findings in a 422 refusal, or null when the error is not a PHI refusal. */
export function phiRefusal(e: unknown): { code: 'phi_warning' | 'phi_blocked'; findings: PhiFinding[]; total: number; text: string } | null {
  if (!(e instanceof ApiError) || (e.code !== 'phi_warning' && e.code !== 'phi_blocked')) return null;
  const raw = e.problem.findings;
  const findings = Array.isArray(raw) ? (raw as PhiFinding[]) : [];
  // A file's content may hold more findings than the server lists; it counts them all.
  const counted = e.problem.findings_total;
  const total = typeof counted === 'number' && counted >= findings.length ? counted : findings.length;
  return { code: e.code, findings, total, text: e.message };
}

/** Where in a file the findings are (its name, its content, or both), and whether that is two things. */
export function fileFindingPlace(findings: readonly PhiFinding[]): { place: string; both: boolean } {
  const name = findings.some((f) => f.field === 'name');
  const content = findings.some((f) => f.field === 'content');
  if (name && content) return { place: 'The file name and content', both: true };
  return { place: content ? "The file's content" : 'The file name', both: false };
}

/** Tells the author their message waits for review (after a send answered with state "held"). */
export function heldNotice(reason: string | undefined): string {
  return reason === 'phi'
    ? 'Sent for review: it may contain patient information, so a moderator will check it before anyone else sees it.'
    : 'Sent for review: a moderator will publish it before anyone else sees it.';
}

/**
 * A space header's short note of its policy: "PHI allowed", "PHI blocked · pre-moderated". An
 * `outsider` (a patient or a guest) is told their posts are pre-moderated wherever the rule keeps
 * PHI from members (hold, block, redact): the server holds every post of theirs there.
 */
export function policySummary(t: Pick<SpaceTemplate, 'phi' | 'moderation'>, outsider = false): string {
  const phi = { allow: 'PHI allowed', warn: 'No PHI (confirm)', hold: 'PHI held for review', block: 'No PHI', redact: 'PHI redacted' }[t.phi] ?? '';
  const reviewsOutsiders = outsider && (t.phi === 'hold' || t.phi === 'block' || t.phi === 'redact');
  const moderation = t.moderation === 'pre-moderation' || reviewsOutsiders ? 'pre-moderated' : t.moderation === 'post-moderation' ? 'moderated' : '';
  return [phi, moderation].filter(Boolean).join(' · ');
}
