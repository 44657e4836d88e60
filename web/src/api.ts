// The Rounds HTTP API client: JSON in and out, the CSRF token kept in memory only (never in
// browser storage), problem+json errors surfaced as ApiError with their stable code.
export interface UserRef { id: number; username: string; display_name: string }
export interface User extends UserRef {
  email: string; job_role: string; department_ids: number[]; kind: string;
  is_admin: boolean; is_compliance: boolean; disabled: boolean; created_at: number;
}
export interface Department { id: number; name: string; parent_id: number | null }
export interface Space {
  id: number; kind: 'community' | 'channel' | 'direct'; name: string; topic: string;
  visibility: 'public' | 'private'; join_policy: 'open' | 'invite'; archived: boolean;
  created_by: number; created_at: number; last_seq: number; member_count: number;
  my_role: string | null; read_seq: number; unread_count: number; unread_mentions: number;
  members?: UserRef[];
}
export interface PollOption { index: number; text: string; votes: number }
export interface Reaction { emoji: string; count: number; mine: boolean }
export interface Message {
  id: number; space_id: number; seq: number; author_id: number; author: UserRef;
  kind: 'message' | 'discussion' | 'question' | 'idea' | 'poll' | 'announcement';
  parent_id: number | null; title: string; body: string; client_id: string;
  created_at: number; edited_at: number; deleted: boolean; pinned: boolean;
  accepted_answer_id: number | null; reply_count: number; vote_count: number; my_vote: boolean;
  poll_options: PollOption[]; my_poll_vote: number | null; reactions: Reaction[]; mentions: number[];
}
export interface Page<T> { items: T[]; next_cursor: string | null }
export interface SearchResult {
  messages: { message: Message; space: { id: number; name: string; kind: string }; snippet: string }[];
  people: User[]; spaces: Space[]; next_cursor: string | null;
}

export class ApiError extends Error {
  status: number;
  code: string;
  field?: string;
  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

let csrfToken: string | null = null;
let onUnauthenticated: () => void = () => {};

export function setCsrfToken(token: string | null) { csrfToken = token; }
export function onSignedOut(callback: () => void) { onUnauthenticated = callback; }

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    if (res.status === 401 && !path.endsWith('/auth/login')) onUnauthenticated();
    throw new ApiError(res.status, data?.code ?? 'error', data?.detail ?? res.statusText, data?.field);
  }
  return data as T;
}

export const errorText = (e: unknown) => (e instanceof ApiError ? e.message : 'Something went wrong. Try again.');
