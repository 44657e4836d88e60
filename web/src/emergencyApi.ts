// Emergency access ("break the glass"): a staff member who is not a member of a space holding
// patient information reads it for up to an hour, after giving a reason and their password (and
// a code with two-step sign-in). Compliance officers are alerted at once, may revoke a grant, and
// review every grant once it is over. Same client as api.ts (cookie session, CSRF header,
// problem+json errors as ApiError).
import { api, type Page, type SpaceRef, type UserRef } from './api';

/** How a grant ended: by its holder, by running out, or by a compliance officer. */
export type GrantEnd = 'ended' | 'expired' | 'revoked';
export type ReviewOutcome = 'justified' | 'unjustified';
export interface GrantReview { outcome: ReviewOutcome; note: string; by: UserRef | null; at: number }

export interface EmergencyGrant {
  id: number;
  /** Who broke the glass. */
  user: UserRef;
  space: SpaceRef;
  reason: string;
  purpose: string;
  started_at: number; expires_at: number;
  /** Not ended and not past expires_at. */
  active: boolean;
  ended_at: number | null;
  end: GrantEnd | null;
  ended_by: UserRef | null;
  review: GrantReview | null;
  /** On the answer to opening (or reviewing) only: the types of patient identifiers taken out of
   *  the reason (or the note) before it was stored, e.g. "name,phone". The record keeps none. */
  reason_redacted?: string;
  note_redacted?: string;
}

/** A space the caller could open with emergency access, with the name of the policy it runs under. */
export interface EligibleSpace extends SpaceRef { template: string }

/** active: running now; unreviewed: over and waiting for a compliance officer; all: both and the reviewed. */
export type GrantState = 'active' | 'unreviewed' | 'all';

export interface OpenRequest { space_id: number; reason: string; password: string; code?: string; minutes: number }

/** What the server takes as a reason, counted in characters after trimming. */
export const REASON_MIN = 10;
export const REASON_MAX = 1000;
/** The lengths offered; the server takes 5 to 60 minutes. */
export const DURATIONS = [15, 30, 60] as const;

const query = (params: Record<string, string | number | null | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};

export const Emergency = {
  /** Staff: the spaces with patient information the caller cannot read otherwise, by name. */
  spaces: (text: string, signal?: AbortSignal) =>
    api<Page<EligibleSpace>>('GET', `/api/v1/emergency-access/spaces${query({ q: text, limit: 50 })}`, undefined, { signal }),
  open: (request: OpenRequest) => api<EmergencyGrant>('POST', '/api/v1/emergency-access', request),
  /** mine: the caller's own grants; all: everyone's (compliance officers). Newest first. */
  grants: (scope: 'mine' | 'all', state: GrantState = 'all', before?: string | null) =>
    api<Page<EmergencyGrant>>('GET', `/api/v1/emergency-access${query({ scope, state, before, limit: 50 })}`),
  /** Its holder ends a grant early, or a compliance officer revokes it. */
  end: (id: number) => api<EmergencyGrant>('POST', `/api/v1/emergency-access/${id}/end`),
  review: (id: number, outcome: ReviewOutcome, note: string) =>
    api<EmergencyGrant>('POST', `/api/v1/emergency-access/${id}/review`, { outcome, note }),
};
