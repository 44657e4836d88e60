// Files on messages: their sizes as people read them, where they are fetched from, and which of
// them the browser shows (the server serves only these inline; anything else is a download).
import type { AttachmentRef, Message } from '../api';

/** The most files one message carries (the server refuses more). */
export const MAX_ATTACHMENTS = 10;

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** "0 B", "68 B", "1.5 KB", "12 KB", "3.4 MB" (units of 1024; one decimal below 10). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  const whole = Math.floor(bytes);
  if (whole < 1024) return `${whole} B`;
  let unit = 0;
  let value = whole;
  while (value >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit++; }
  let shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  // Rounding may reach the next unit: 1023.7 KB reads "1 MB", not "1024 KB".
  if (shown >= 1024 && unit < UNITS.length - 1) { unit++; shown = 1; }
  return `${shown} ${UNITS[unit]}`;
}

const IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const INLINE = new Set([...IMAGES, 'application/pdf', 'text/plain']);

const baseType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();

/** A type shown as a thumbnail. */
export const isImage = (contentType: string) => IMAGES.has(baseType(contentType));
/** A type the server serves inline (it opens in a tab); anything else is downloaded. */
export const opensInline = (contentType: string) => INLINE.has(baseType(contentType));

export const attachmentUrl = (id: number) => `/api/v1/attachments/${id}`;

/** A message's files; none for messages from before attachments (or from an older server). */
export const messageAttachments = (m: Pick<Message, 'attachments'>): AttachmentRef[] =>
  Array.isArray(m.attachments) ? m.attachments : [];

/** "scan.pdf and photo.png" (a short stand-in for a message that is only files). */
export function attachmentNames(m: Pick<Message, 'attachments'>): string {
  const names = messageAttachments(m).map((a) => a.name);
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
