// Emergency access in words, shared by the holder's screens and the compliance section, and the
// one way out of a space whose emergency access has ended.
import type { EmergencyGrant } from '../emergencyApi';
import { REASON_MAX, REASON_MIN } from '../emergencyApi';
import type { Toast } from '../state';
import { shortTime, timeOfDay } from './format';
import { go, href, parseRoute } from './route';

/** Why a reason would be refused (counted as the server counts: characters, after trimming), or ''. */
export function reasonProblem(reason: string): string {
  const length = [...reason.trim()].length;
  if (length < REASON_MIN) return `Say why you need emergency access, in at least ${REASON_MIN} characters.`;
  if (length > REASON_MAX) return `A reason is at most ${REASON_MAX.toLocaleString()} characters.`;
  return '';
}

/** "Active until 14:32", "Ended 14:05 by you", "Expired 14:32", "Revoked 14:10 by Cora Privacy". */
export function endText(g: EmergencyGrant, meId?: number): string {
  if (g.active) return `Active until ${timeOfDay(g.expires_at)}`;
  const at = shortTime(g.ended_at ?? g.expires_at);
  const by = g.ended_by ? (g.ended_by.id === meId ? 'you' : g.ended_by.display_name) : '';
  switch (g.end) {
    case 'ended': return `Ended ${at}${by ? ` by ${by}` : ''}`;
    case 'revoked': return `Revoked ${at}${by ? ` by ${by}` : ''}`;
    // Past its time but not yet closed by the server's sweep: it no longer opens anything.
    default: return `Expired ${at}`;
  }
}

/** The review's outcome with who gave it and their note; "Awaiting review" once over; '' while active. */
export function reviewText(g: EmergencyGrant): string {
  if (!g.review) return g.active ? '' : 'Awaiting review';
  const outcome = g.review.outcome === 'justified' ? 'Justified' : 'Unjustified';
  const by = g.review.by ? ` by ${g.review.by.display_name}` : '';
  return `${outcome}${by}${g.review.note ? `: ${g.review.note}` : ''}`;
}

/**
 * Leaves the space of an emergency access that has ended, for the Emergency access screen, with a
 * notice. Only when that space is still on screen: the holder's "End now" and the event saying it
 * ended may both arrive, and the person is told once.
 */
export function leaveEmergencySpace(spaceId: number, text: string, toast: (t: Omit<Toast, 'id'>) => void) {
  const route = parseRoute(location.hash);
  if (route.page !== 'space' || route.id !== spaceId) return;
  toast({ text });
  go(href.emergency());
}

/** What to tell someone whose reason or note lost patient identifiers on its way to the record. */
export function redactedText(types: string | undefined, what: 'reason' | 'note'): string | null {
  if (!types) return null;
  const named = types.split(',').map((t) => t.replace(/_/g, ' ')).join(', ');
  return `Patient identifiers (${named}) were taken out of your ${what}: the audit trail keeps none.`;
}
