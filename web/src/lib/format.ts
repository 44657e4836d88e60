// Display helpers: times, names, initials and a stable colour per person.
import type { Space, UserRef } from '../api';

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export const sameDay = (a: number, b: number) => new Date(a).toDateString() === new Date(b).toDateString();

/** "14:05" today, "3 Nov, 14:05" otherwise. */
export function shortTime(ms: number, now = Date.now()): string {
  return sameDay(ms, now) ? timeFmt.format(ms) : shortFmt.format(ms);
}
export const fullTime = (ms: number) => fullFmt.format(ms);
export const timeOfDay = (ms: number) => timeFmt.format(ms);

export function dayLabel(ms: number, now = Date.now()): string {
  if (sameDay(ms, now)) return 'Today';
  if (sameDay(ms, now - 86_400_000)) return 'Yesterday';
  return dayFmt.format(ms);
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return '?';
  const first = [...parts[0]!][0] ?? '';
  const last = parts.length > 1 ? [...parts[parts.length - 1]!][0] ?? '' : '';
  return (first + last).toUpperCase();
}

// Calm, dark-enough hues so white initials keep 4.5:1 contrast.
const HUES = ['#0b5d75', '#3d5a80', '#6b4c8a', '#1f6f50', '#8a4b2f', '#7a3b5c', '#2f5d8a', '#55652b'];
export const colourFor = (id: number) => HUES[Math.abs(id) % HUES.length]!;

/** The name shown for a space: "# name" for channels, the other people for direct messages. */
/** The id the signed-in person goes by in `space` (under pseudonyms, not their account's). */
export const memberIdIn = (space: Pick<Space, 'my_member_id'> | undefined, meId: number) => space?.my_member_id ?? meId;

export function spaceTitle(s: Pick<Space, 'kind' | 'name' | 'members'>, meId: number): string {
  if (s.kind === 'direct') {
    const others = (s.members ?? []).filter((m) => m.id !== meId).map((m) => m.display_name);
    return others.length ? others.join(', ') : s.name || 'Just you';
  }
  return s.kind === 'channel' ? `# ${s.name}` : s.name;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function listNames(people: UserRef[]): string {
  const names = people.map((p) => p.display_name);
  if (names.length <= 1) return names.join('');
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others`;
}

/** Plain text preview of Markdown (for notifications and lists), never rendered as HTML. */
export function preview(body: string, max = 140): string {
  const text = body.replace(/[`*_>#~[\]()!]/g, '').replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
