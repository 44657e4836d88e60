// The Rounds HTTP API client. JSON in and out over same-origin relative URLs; the session is an
// HttpOnly cookie and the CSRF token lives in this module's memory only (never in browser
// storage). Problem+json errors become ApiError with the server's stable `code` and its `detail`.
// A file (a Blob) goes as the raw body under its own type instead of JSON.

export interface UserRef { id: number; username: string; display_name: string }
export interface User extends UserRef {
  email: string; job_role: string; department_ids: number[]; kind: string;
  is_admin: boolean; is_compliance: boolean; disabled: boolean; created_at: number;
  /** From outside the organization: only in the spaces they are added to (absent on older servers). */
  is_guest?: boolean;
}
export interface Department { id: number; name: string; parent_id: number | null }
export type SpaceKind = 'community' | 'channel' | 'direct';
export type Role = 'owner' | 'moderator' | 'member' | 'read_only';
export interface Space {
  id: number; kind: SpaceKind; name: string; topic: string;
  visibility: 'public' | 'private'; join_policy: 'open' | 'invite'; archived: boolean;
  /** How a non-member gets in, as the space's setting and its template decide together. */
  joining?: 'open' | 'request' | 'invite';
  /** For a non-member of a space joined on request: whether they have asked. */
  join_requested?: boolean;
  created_by: number; created_at: number; last_seq: number; member_count: number;
  my_role: Role | null; read_seq: number; unread_count: number; unread_mentions: number;
  members?: UserRef[];
  /** The policy template version the space runs under (absent on servers without governance). */
  template?: SpaceTemplate;
  /** Under a template with pseudonyms: the name the caller goes by in this space. */
  my_pseudonym?: string;
  /** The id the caller goes by in this space: their account's, or under pseudonyms the
   * pseudonymous one that their messages, reactions and membership carry there. */
  my_member_id?: number;
  /** Read under the caller's emergency access (not a member): read-only until expires_at. */
  emergency?: { grant_id: number; expires_at: number };
}
export type PhiRule = 'allow' | 'warn' | 'hold' | 'block' | 'redact';
export interface SpaceTemplate {
  key: string; version: number; name: string; phi: PhiRule; moderation: string; audience: string;
  /** Whether the space's owners and moderators may download its conversation. */
  export_allowed?: boolean;
  /** Members appear under pseudonyms (patient forums): names are not links to people. */
  pseudonyms?: boolean;
}
export interface JoinRequest { space_id: number; user: UserRef; job_role: string; created_at: number }
export interface Member {
  space_id: number; user_id: number; role: Role; read_seq: number; joined_at: number; user: UserRef;
  /** From outside the organization (absent on older servers). */
  is_guest?: boolean;
  /** Under pseudonyms: the name shown (also in `user`), and, for the space's moderators, whose it is. */
  pseudonym?: string; account?: UserRef;
}
export interface PollOption { index: number; text: string; votes: number }
export interface Reaction { emoji: string; count: number; mine: boolean }
export type MessageKind = 'message' | 'discussion' | 'question' | 'idea' | 'poll' | 'announcement';
/** A file as a message carries it. */
export interface AttachmentRef { id: number; name: string; content_type: string; size: number; sha256: string }
/** An upload, as the server answers it: the author's alone until a post names it in attachment_ids. */
export interface Attachment extends AttachmentRef {
  space_id: number; uploader_id: number; message_id: number | null; phi_types: string[]; created_at: number;
}
export interface Message {
  id: number; space_id: number; seq: number; author_id: number; author: UserRef;
  kind: MessageKind; parent_id: number | null; title: string; body: string; client_id: string;
  created_at: number; edited_at: number; deleted: boolean; pinned: boolean;
  accepted_answer_id: number | null; reply_count: number; vote_count: number; my_vote: boolean;
  poll_options: PollOption[]; my_poll_vote: number | null; reactions: Reaction[]; mentions: number[];
  /** "held": waiting for a moderator, seen only by its author and the space's moderators. */
  state?: 'published' | 'held' | 'hidden' | 'removed';
  hold_reason?: '' | 'pre_moderation' | 'phi' | 'review';
  phi_types?: string[] | string;
  /** Its files (absent from servers and data older than attachments: read it with messageAttachments). */
  attachments?: AttachmentRef[];
}
export interface Page<T> { items: T[]; next_cursor: string | null }
export interface SpaceRef { id: number; name: string; kind: SpaceKind }
export interface SearchHit { message: Message; space: SpaceRef; snippet: string }
export interface SearchResult { messages: SearchHit[]; people: User[]; spaces: Space[]; next_cursor: string | null }
export interface MentionItem { message: Message; space: SpaceRef }
export interface Thread { root: Message; items: Message[] }
export interface EditVersion { version: number; body: string; edited_at: number; editor_id: number }
export interface SessionInfo {
  user: User; csrf_token: string;
  /** `admin_elevation_left_ms`: how long this session still administers (0: it does not), by the
   *  server's clock — an administrator's account acts as staff until it takes administration up. */
  session?: { idle_timeout_ms: number; expires_at?: number; admin_elevated_until?: number; admin_elevation_left_ms?: number };
  /** Two-step sign-in of this account (GET /me only; absent from servers without it). */
  mfa?: MfaStatus;
  /** A policy requires two-step sign-in and the account has none yet: until it is set up, every
   *  other call answers 403 `mfa_enrollment_required`. */
  mfa_enrollment_required?: boolean;
}
export interface MfaStatus { enabled: boolean; required: boolean; recovery_codes_left: number }
/** The password was right and the account has two-step sign-in: a code must follow (POST /auth/mfa). */
export interface MfaChallenge { mfa_required: true; mfa_token: string; methods: string[] }
/** What a password sign-in leads to: a session, or the code step. */
export type SignInStep = { kind: 'signed_in'; session: SessionInfo } | { kind: 'mfa'; challenge: MfaChallenge };
/** A started authenticator set-up: the shared secret (base32) and the same as an otpauth:// URI for a QR code. */
/** One of my signed-in sessions (GET /me/sessions). `last_seen_at` may lag real use by a minute. */
export interface LiveSession {
  id: number;
  /** The session making this request: this browser. */
  current: boolean;
  /** Signed in with a bearer token (an API client), not a browser's cookie. */
  bearer: boolean;
  /** Signed in with a code as well as the password. */
  second_factor: boolean;
  /** Until when this session administers (an administrator's, once it confirmed the password); 0: it does not. */
  admin_elevated_until?: number;
  created_at: number; last_seen_at: number; expires_at: number;
  /** As the client sent it when signing in (may be empty). */
  user_agent: string;
  address: string;
}
export interface TotpSetup { secret: string; otpauth_uri: string }
export interface RecoveryCodes { recovery_codes: string[] }

export function signInStep(answer: SessionInfo | MfaChallenge): SignInStep {
  return 'mfa_required' in answer && answer.mfa_required ? { kind: 'mfa', challenge: answer } : { kind: 'signed_in', session: answer as SessionInfo };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  /** The whole problem document (extension members such as `findings`). */
  readonly problem: Record<string, unknown>;
  constructor(status: number, code: string, message: string, field?: string, problem: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.problem = problem;
  }
}

let csrfToken: string | null = null;
let unauthenticated: () => void = () => {};
let enrollmentRequired: () => void = () => {};
let elevationRequired: () => void = () => {};

export function setCsrfToken(token: string | null) { csrfToken = token; }
/** Called when a request answers 401 because the session is gone (see sessionEnded). */
export function onUnauthenticated(callback: () => void) { unauthenticated = callback; }
/** Called when a request is refused until two-step sign-in is set up (a policy turned on mid-session). */
export function onMfaEnrollmentRequired(callback: () => void) { enrollmentRequired = callback; }
/** Called when an administrator's act is refused because the session does not administer (any more). */
export function onAdminElevationRequired(callback: () => void) { elevationRequired = callback; }

/**
 * Whether a 401 means the session is gone. The sign-in steps answer 401 for a wrong password or
 * code, and so do the two-step settings for a wrong code (`invalid_code`): the session lives on.
 */
export function sessionEnded(status: number, path: string, code: string | undefined): boolean {
  if (status !== 401) return false;
  if (path.endsWith('/auth/login') || path.endsWith('/auth/mfa')) return false;
  return code !== 'invalid_code';
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function api<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const raw = body instanceof Blob;
  if (body !== undefined) headers['content-type'] = raw ? body.type || 'application/octet-stream' : 'application/json';
  if (UNSAFE.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', signal: init.signal,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach Rounds. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const problem = (data ?? {}) as { code?: string; detail?: string; title?: string; field?: string };
    if (sessionEnded(res.status, path, problem.code)) unauthenticated();
    if (res.status === 403 && problem.code === 'mfa_enrollment_required') enrollmentRequired();
    if (res.status === 403 && problem.code === 'admin_elevation_required') elevationRequired();
    let message = problem.detail || problem.title || defaultMessage(res.status);
    const retry = res.headers.get('retry-after');
    if (res.status === 429 && retry) message += ` Try again in ${retry} s.`;
    throw new ApiError(res.status, problem.code ?? 'error', message, problem.field, (data && typeof data === 'object' ? data : {}) as Record<string, unknown>);
  }
  return data as T;
}

function defaultMessage(status: number): string {
  if (status === 401) return 'Your session has ended. Sign in again.';
  if (status === 403) return 'You do not have access to that.';
  if (status === 404) return 'That could not be found. It may have been deleted.';
  if (status === 429) return 'Too many requests.';
  if (status >= 500) return 'Rounds had a problem. Try again in a moment.';
  return 'That did not work. Check the form and try again.';
}

/** The request field a refusal is about, without its leading slash ("reason", "minutes"); undefined when it is about the request as a whole. */
export const problemField = (e: unknown): string | undefined =>
  e instanceof ApiError && e.field ? e.field.replace(/^\//, '') : undefined;

export const errorText = (e: unknown): string =>
  e instanceof ApiError ? e.message : e instanceof Error && e.name === 'AbortError' ? '' : 'Something went wrong. Try again.';

const q = (params: Record<string, string | number | null | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};

// Typed endpoints: one line each, so components read as what they do.
export const Api = {
  login: async (username: string, password: string): Promise<SignInStep> =>
    signInStep(await api<SessionInfo | MfaChallenge>('POST', '/api/v1/auth/login', { username, password, bearer: false })),
  /** The code step: a code from the authenticator app or a recovery code, with the challenge's token. */
  completeMfa: (mfa_token: string, code: string) => api<SessionInfo>('POST', '/api/v1/auth/mfa', { mfa_token, code, bearer: false }),
  logout: () => api<void>('POST', '/api/v1/auth/logout'),
  me: () => api<SessionInfo>('GET', '/api/v1/me'),
  elevate: (password: string, code?: string) =>
    api<{ admin_elevated_until: number; admin_elevation_left_ms: number }>('POST', '/api/v1/auth/elevation', code ? { password, code } : { password }),
  endElevation: () => api<void>('DELETE', '/api/v1/auth/elevation'),
  /** A new e-mail address needs current_password (403 `reauthentication_required` without it). */
  updateMe: (patch: { display_name?: string; email?: string; current_password?: string }) => api<User>('PATCH', '/api/v1/me', patch),
  changePassword: (current_password: string, new_password: string) =>
    api<void>('POST', '/api/v1/me/password', { current_password, new_password }),
  /** My live sessions, newest first. */
  mySessions: () => api<{ items: LiveSession[] }>('GET', '/api/v1/me/sessions'),
  /** Signs one of my sessions out (404 `not_found` once it has ended); its live connections close. */
  endSession: (id: number) => api<void>('DELETE', `/api/v1/me/sessions/${id}`),
  /** Signs out every session of mine but this one; says how many ended. */
  endOtherSessions: () => api<{ ended: number }>('POST', '/api/v1/me/sessions/end-others'),
  mentions: (cursor?: string | null) => api<Page<MentionItem>>('GET', `/api/v1/me/mentions${q({ cursor, limit: 30 })}`),
  /** Two-step sign-in: the password again, then a code from the app turns it on and gives recovery codes. */
  startTotpSetup: (password: string) => api<TotpSetup>('POST', '/api/v1/me/mfa/totp/setup', { password }),
  confirmTotp: (code: string) => api<RecoveryCodes>('POST', '/api/v1/me/mfa/totp/confirm', { code }),
  disableTotp: (password: string, code: string) => api<void>('POST', '/api/v1/me/mfa/totp/disable', { password, code }),
  newRecoveryCodes: (password: string, code: string) => api<RecoveryCodes>('POST', '/api/v1/me/mfa/recovery-codes', { password, code }),

  /** include_disabled: administrators and compliance officers also get disabled accounts. */
  users: (f: { q?: string; job_role?: string; department_id?: string; cursor?: string | null; limit?: number; include_disabled?: boolean }, signal?: AbortSignal) =>
    api<Page<User>>('GET', `/api/v1/users${q({ limit: 50, ...f, include_disabled: f.include_disabled ? 'true' : undefined })}`, undefined, { signal }),
  user: (id: number) => api<User>('GET', `/api/v1/users/${id}`),
  /** Administrators: removes a person's two-step sign-in (a lost phone) and ends their sessions. */
  resetMfa: (id: number) => api<void>('POST', `/api/v1/users/${id}/mfa/reset`),
  endUserSessions: (id: number) => api<{ ended: number }>('POST', `/api/v1/users/${id}/sessions/end`),
  departments: () => api<{ items: Department[] }>('GET', '/api/v1/departments'),

  mySpaces: () => api<Page<Space>>('GET', '/api/v1/spaces?scope=mine&limit=200'),
  discover: (text: string, cursor?: string | null) => api<Page<Space>>('GET', `/api/v1/spaces${q({ scope: 'discover', q: text, cursor })}`),
  /**
   * Compliance officers: every community and channel by name or topic, private and archived ones
   * too; with kind 'direct', the direct conversations by a member's name.
   */
  allSpaces: (text: string, signal?: AbortSignal, kind?: 'direct') =>
    api<Page<Space>>('GET', `/api/v1/spaces${q({ scope: 'all', q: text, kind, limit: 20 })}`, undefined, { signal }),
  createSpace: (s: { kind: 'community' | 'channel'; name: string; topic?: string; visibility: string; join_policy: string }) =>
    api<Space>('POST', '/api/v1/spaces', s),
  space: (id: number) => api<Space>('GET', `/api/v1/spaces/${id}`),
  updateSpace: (id: number, patch: Partial<Pick<Space, 'name' | 'topic' | 'visibility' | 'join_policy' | 'archived'>>) =>
    api<Space>('PATCH', `/api/v1/spaces/${id}`, patch),
  members: (id: number, cursor?: string | null) => api<Page<Member>>('GET', `/api/v1/spaces/${id}/members${q({ cursor, limit: 200 })}`),
  addMember: (id: number, user_id: number, role: Role = 'member') => api<Member>('POST', `/api/v1/spaces/${id}/members`, { user_id, role }),
  setRole: (id: number, userId: number, role: Role) => api<Member>('PATCH', `/api/v1/spaces/${id}/members/${userId}`, { role }),
  removeMember: (id: number, userId: number) => api<void>('DELETE', `/api/v1/spaces/${id}/members/${userId}`),
  join: (id: number) => api<unknown>('POST', `/api/v1/spaces/${id}/join`),
  leave: (id: number) => api<unknown>('POST', `/api/v1/spaces/${id}/leave`),
  requestToJoin: (id: number) => api<JoinRequest>('POST', `/api/v1/spaces/${id}/join-requests`),
  withdrawJoinRequest: (id: number, me: number) => api<void>('DELETE', `/api/v1/spaces/${id}/join-requests/${me}`),
  joinRequests: (id: number) => api<{ items: JoinRequest[] }>('GET', `/api/v1/spaces/${id}/join-requests`),
  decideJoinRequest: (id: number, userId: number, approve: boolean) =>
    api<unknown>('POST', `/api/v1/spaces/${id}/join-requests/${userId}/${approve ? 'approve' : 'decline'}`),
  messages: (id: number, page: { before?: number | string | null; after?: number | null; limit?: number }) =>
    api<Page<Message>>('GET', `/api/v1/spaces/${id}/messages${q({ limit: 50, ...page })}`),
  post: (id: number, draft: {
    body: string; kind?: MessageKind; title?: string; parent_id?: number; client_id: string; poll_options?: string[]; confirm_phi?: boolean;
    attachment_ids?: number[];
  }) => api<Message>('POST', `/api/v1/spaces/${id}/messages`, draft),
  /** Uploads a file to post with a message later (confirmPhi: the author saw the warning about its name). */
  /** Takes back an upload that no message carries yet (a file removed from a draft). */
  removeUpload: (id: number) => api<void>('DELETE', `/api/v1/attachments/${id}`),
  upload: (id: number, file: File, confirmPhi = false, signal?: AbortSignal) =>
    api<Attachment>('POST', `/api/v1/spaces/${id}/attachments${q({ name: file.name, confirm_phi: confirmPhi ? 'true' : null })}`, file, { signal }),
  pins: (id: number) => api<{ items: Message[] }>('GET', `/api/v1/spaces/${id}/pins`),
  markRead: (id: number, seq: number) => api<void>('POST', `/api/v1/spaces/${id}/read`, { seq }),

  message: (id: number) => api<Message>('GET', `/api/v1/messages/${id}`),
  edit: (id: number, body: string, title?: string, confirmPhi = false) =>
    api<Message>('PATCH', `/api/v1/messages/${id}`, { body, ...(title === undefined ? {} : { title }), ...(confirmPhi ? { confirm_phi: true } : {}) }),
  remove: (id: number) => api<void>('DELETE', `/api/v1/messages/${id}`),
  history: (id: number) => api<{ items: EditVersion[] }>('GET', `/api/v1/messages/${id}/history`),
  thread: (id: number) => api<Thread>('GET', `/api/v1/messages/${id}/thread`),
  react: (id: number, emoji: string, on: boolean) => api<unknown>(on ? 'PUT' : 'DELETE', `/api/v1/messages/${id}/reactions/${encodeURIComponent(emoji)}`),
  vote: (id: number, on: boolean) => api<unknown>(on ? 'PUT' : 'DELETE', `/api/v1/messages/${id}/vote`),
  pollVote: (id: number, option: number | null) => api<unknown>('POST', `/api/v1/messages/${id}/poll-vote`, { option }),
  accept: (id: number, on: boolean) => api<Message>(on ? 'POST' : 'DELETE', `/api/v1/messages/${id}/accept`),
  pin: (id: number, on: boolean) => api<Message>(on ? 'PUT' : 'DELETE', `/api/v1/messages/${id}/pin`),

  direct: (user_ids: number[]) => api<Space>('POST', '/api/v1/direct', { user_ids }),
  search: (text: string, cursor?: string | null) => api<SearchResult>('GET', `/api/v1/search${q({ q: text, cursor, limit: 20 })}`),
};
