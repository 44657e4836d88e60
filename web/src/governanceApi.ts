// Governance endpoints: the composer's PHI preview, reports and moderation, policy templates,
// the audit trail, legal holds and e-discovery exports. Same client as api.ts (cookie session,
// CSRF header, problem+json errors as ApiError).
import { api, type Message, type Space, type SpaceRef, type UserRef } from './api';

export type PhiAction = 'allow' | 'warn' | 'hold' | 'block' | 'redact';
/** One detected identifier: begin/end are UTF-8 byte offsets into `field` ("body", "title", "poll_options/N"). */
/**
 * `across_messages`: found only with the end of a post before this text: the author's previous one,
 * or, with `in_reply`, another author's that this text answers ("what's her dob?" / "3/4/1950");
 * or, with `before_next`, only with what follows an edited post: an identifier it begins and the next
 * one finishes, or a value after it that the edit gives its context ("anything new?" edited into
 * "what's her dob?" above a colleague's "3/4/1950").
 */
export interface PhiFinding {
  type: string; field: string; begin: number; end: number; confidence: number; rule: string;
  across_messages?: boolean; in_reply?: boolean; before_next?: boolean;
}
export interface PhiCheck { action: PhiAction; findings: PhiFinding[] }

export interface ReportRef { id: number; reporter_id: number; reason: string; created_at: number }
export interface QueueItem { message: Message; space: Pick<SpaceRef, 'id' | 'name'> | null; reports: ReportRef[]; hold_reason: '' | 'pre_moderation' | 'phi' | 'review' }
export type ModerationKind = 'approve' | 'hide' | 'remove' | 'warn' | 'suspend';
export interface Appeal { text: string; appealed_at: number; outcome: '' | 'upheld' | 'reversed' | null; reason: string; decided_at: number }
export interface ModerationAction {
  id: number; space_id: number; message_id: number | null; target_user_id: number; moderator_id: number;
  action: ModerationKind; reason: string; created_at: number; appeal: Appeal | null;
}

export interface TemplateVersion {
  key: string; version: number; name: string; description: string; builtin: boolean;
  document: Record<string, unknown>; space_count: number;
  /** One version read alone (GET …/versions/{n}): the spaces that run under it. */
  spaces?: (SpaceRef & { archived: boolean })[];
}
export interface TemplateChange { path: string; from: unknown; to: unknown }
export interface ValidationIssue { path: string; code: string; message: string }
export interface DryRun {
  messages_checked: number; allowed: number; warned: number; held: number; blocked: number; redacted: number; pre_moderated: number;
  /** Messages carrying a file the version would not take (none allowed, its type, its size). */
  with_refused_files?: number;
  /** Text files too large for a dry run to read; their names were still screened. */
  files_not_screened?: number;
  items: { message_id: number; action: string; finding_types: string[]; file_refusals?: { attachment_id: number; code: string }[] }[];
}

export interface AuditRecord {
  seq: number; time: number; actor_id: number; actor_role: string; action: string; object_type: string; object_id: string;
  /** The actor's account as it is named now (null: the system, an unknown caller, or an account removed since). */
  actor?: UserRef | null;
  /** For records about a space: the space as it is named now (null: removed since). */
  space?: SpaceRef | null;
  patient_ref?: string; outcome: 'success' | 'denied' | 'failure'; address?: string; session_hash?: string; reason?: string;
  details?: unknown; prev_hash?: string; hash?: string;
}
export interface AuditFilter {
  actor_id?: string; action?: string; object_type?: string; object_id?: string; outcome?: string; from?: string; to?: string;
  /** An MRN: only records that name this patient (the server records the search by reference, never the MRN). */
  patient?: string;
  /** A patient reference as records show it ("Patient/mrn-…"). */
  patient_ref?: string;
}
/** The last verification of the audit chain (its fields null before the first) and the one running. */
/** A change of the checkpoint signing key: the key that handed over, the key that signs from now on, and the head both signed. */
export interface SigningKeyChange { previous_public_key: string; public_key: string; seq: number }
/**
 * The keys that sign the checkpoints: the first (signing.pub's, which checks every checkpoint), the
 * one signing now and since when, the hand-overs between them, and the next scheduled change.
 */
export interface SigningKeys {
  anchor_public_key: string | null; public_key: string | null; since: number | null; since_seq: number | null;
  changes: { seq: number; time: number; previous_public_key: string; public_key: string }[];
  /** Days a key signs before the server changes it by itself; 0: only on request. */
  change_days: number;
  next_change_at: number | null;
  /** Why the list of changes stops short: a change not signed by the key before it. */
  problem: string | null;
}
export interface AuditVerify {
  ok: boolean | null; records_checked: number | null; checkpoints_checked: number | null; first_bad_seq: number | null;
  /** Hand-overs from one signing key to the next that the verification followed (null before it counted them). */
  key_changes?: number | null;
  problem: string | null; head_seq: number | null; checked_at: number | null; started_at: number | null;
  started_by: string | null; seconds: number | null;
  running: boolean; running_since: number | null; running_records_checked: number | null;
  /** False when the server found at start that the trail left its last signed checkpoint: it signs nothing since. */
  anchored: boolean;
  /** The collector off the host the checkpoints go to (and, with the feed, every record); null without one. */
  witness: AuditWitness | null;
  /** The last checkpoint that signs the trail's Merkle root: the tree's size (records 1 to size), root and time. */
  signed_tree?: { size: number; root: string; time: number } | null;
}
/** A checkpoint line: Ed25519 over the trail's size (seq), head hash, Merkle root and time. */
export interface SignedCheckpoint { seq: number; head_hash: string; root: string; time: number; signature: string; line: string }
/** An RFC 9162 inclusion proof of one record in a signed tree; `rounds audit check-proof` checks it with the public key alone. */
export interface InclusionProof {
  kind: 'inclusion'; seq: number; leaf_index: number; tree_size: number; record_hash: string; leaf_hash: string;
  proof: string[]; checkpoint: SignedCheckpoint;
  /** The server's own check of the proof against the signed root (false only if its kept tree was altered). */
  verified: boolean;
}
export interface AuditWitness {
  address: string; tls: boolean; connected: boolean; last_sent_at: number | null; pending: number; dropped: number;
  feed: boolean; feed_behind: number | null;
}

/** A legal hold: the custodians' messages (what they wrote anywhere, and every message of their direct conversations; anyone's when empty) in the spaces (any when empty), written in [from, to). */
/** The people and spaces a hold or export names, and who made it, as the lists name them now. */
export interface Named {
  custodians?: UserRef[]; spaces?: SpaceRef[]; created_by_user?: UserRef | null;
}

/** Who made a hold or an export: their name, or "#id" for an account removed since. */
export const madeBy = (x: Named & { created_by: number }) => x.created_by_user?.display_name ?? `#${x.created_by}`;
export interface LegalHold extends Named {
  id: number; name: string; reason: string; custodian_ids: number[]; space_ids: number[];
  from: number | null; to: number | null; created_by: number; created_at: number;
  released_by: number | null; released_at: number | null; active: boolean; released_by_user?: UserRef | null;
}

/** Who released a hold: their name, or "#id" for an account removed since. */
export const releasedBy = (h: LegalHold) => h.released_by_user?.display_name ?? `#${h.released_by}`;
export interface ExportQuery { custodian_ids?: number[]; space_ids?: number[]; from?: number | null; to?: number | null; keywords?: string[] }
export interface ExportRecord extends Named {
  id: string; created_by: number; created_at: number; query: ExportQuery; message_count: number; file_count: number; manifest_sha256: string;
  // Set once its files were removed from the server (by a compliance officer, or by the expiry: 0, the system).
  removed_at?: number | null; removed_by?: number | null; removed_by_user?: UserRef | null;
  expires_at?: number | null;  // when the server removes the files by itself, if it will
}
export const removedBy = (x: ExportRecord) => x.removed_by_user?.display_name ?? (x.removed_by === 0 ? 'the system (expired)' : `#${x.removed_by}`);
export interface ExportManifest {
  export_id: string; created_at: number; query: ExportQuery; counts: Record<string, number>;
  files: { name: string; bytes: number; sha256: string }[];
}
/** The files every export writes (manifest.json lists the others with their SHA-256). */
export const EXPORT_FILES = ['messages.json', 'transcript.txt', 'edits.json', 'attachments.json', 'manifest.json'] as const;

const q = (params: Record<string, string | number | boolean | null | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '' && v !== false) s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};
const enc = encodeURIComponent;

export const Gov = {
  phiCheck: (spaceId: number, text: { body: string; title?: string; parent_id?: number; message_id?: number }, signal?: AbortSignal) =>
    api<PhiCheck>('POST', `/api/v1/spaces/${spaceId}/phi-check`, text, { signal }),

  report: (messageId: number, reason: string) => api<unknown>('POST', `/api/v1/messages/${messageId}/report`, { reason }),
  queue: (spaceId?: number | null, limit?: number) =>
    api<{ items: QueueItem[] }>('GET', `/api/v1/moderation/queue${q({ space_id: spaceId, limit })}`),
  moderate: (messageId: number, body: { action: ModerationKind; reason: string; suspend_days?: number }) =>
    api<ModerationAction>('POST', `/api/v1/messages/${messageId}/moderate`, body),
  actions: (f: { space_id?: number | null; pending_appeals?: boolean }) =>
    api<{ items: ModerationAction[] }>('GET', `/api/v1/moderation/actions${q(f)}`),
  myActions: () => api<{ items: ModerationAction[] }>('GET', '/api/v1/me/moderation'),
  appeal: (id: number, text: string) => api<ModerationAction>('POST', `/api/v1/moderation/actions/${id}/appeal`, { text }),
  decide: (id: number, outcome: 'upheld' | 'reversed', reason: string) =>
    api<ModerationAction>('POST', `/api/v1/moderation/actions/${id}/decide`, { outcome, reason }),

  templates: () => api<{ items: TemplateVersion[] }>('GET', '/api/v1/templates'),
  template: (key: string, version: number) => api<TemplateVersion>('GET', `/api/v1/templates/${enc(key)}/versions/${version}`),
  createTemplate: (document: unknown) => api<TemplateVersion>('POST', '/api/v1/templates', { document }),
  newVersion: (key: string, document: unknown) => api<TemplateVersion>('POST', `/api/v1/templates/${enc(key)}/versions`, { document }),
  cloneTemplate: (key: string, new_key: string, name: string) =>
    api<TemplateVersion>('POST', `/api/v1/templates/${enc(key)}/clone`, { new_key, name }),
  diff: (key: string, from: number, to: number) =>
    api<{ changes: TemplateChange[] }>('GET', `/api/v1/templates/${enc(key)}/diff${q({ from, to })}`),
  validate: (document: unknown) => api<{ valid: boolean; issues: ValidationIssue[] }>('POST', '/api/v1/templates/validate', { document }),
  assign: (spaceId: number, key: string, version: number, reason: string) =>
    api<Space>('POST', `/api/v1/spaces/${spaceId}/template`, { key, version, reason }),
  dryRun: (spaceId: number, key: string, version: number, limit: number) =>
    api<DryRun>('POST', `/api/v1/spaces/${spaceId}/template/dry-run`, { key, version, limit }),

  audit: (f: AuditFilter & { cursor?: string | null; limit?: number }) =>
    api<{ items: AuditRecord[]; next_cursor: string | null }>('GET', `/api/v1/audit${q({ limit: 50, ...f })}`),
  verification: () => api<AuditVerify>('GET', '/api/v1/audit/verify'),
  startVerification: () => api<AuditVerify>('POST', '/api/v1/audit/verify'),
  signingKeys: () => api<SigningKeys>('GET', '/api/v1/audit/signing-key'),
  /** Hands checkpoint signing over to a new key; confirmed with the officer's password (and a code, with two-step sign-in). */
  changeSigningKey: (password: string, code: string | undefined, reason: string) =>
    api<SigningKeyChange>('POST', '/api/v1/audit/signing-key', { password, ...(code ? { code } : {}), ...(reason ? { reason } : {}) }),
  inclusionProof: (seq: number) => api<InclusionProof>('GET', `/api/v1/audit/proof/inclusion${q({ seq })}`),
  auditExportUrl: (format: 'csv' | 'ndjson' | 'fhir', f: { from?: string; to?: string }) => `/api/v1/audit/export${q({ format, ...f })}`,

  holds: () => api<{ items: LegalHold[] }>('GET', '/api/v1/legal-holds?include_released=true'),
  createHold: (hold: { name: string; reason: string; custodian_ids: number[]; space_ids: number[]; from: number | null; to: number | null }) =>
    api<LegalHold>('POST', '/api/v1/legal-holds', hold),
  /** Confirmed with the officer's password (and a code, with two-step sign-in). */
  releaseHold: (id: number, password: string, code?: string) =>
    api<LegalHold>('POST', `/api/v1/legal-holds/${id}/release`, code ? { password, code } : { password }),
  exports: () => api<{ items: ExportRecord[] }>('GET', '/api/v1/exports'),
  createExport: (query: ExportQuery) => api<ExportManifest>('POST', '/api/v1/exports', query),
  exportFileUrl: (id: string, name: string) => `/api/v1/exports/${enc(id)}/files/${enc(name)}`,
  exportArchiveUrl: (id: string) => `/api/v1/exports/${enc(id)}/archive`,
  /** Confirmed with the officer's password (and a code, with two-step sign-in). */
  removeExport: (id: string, password: string, code?: string) =>
    api<ExportRecord>('DELETE', `/api/v1/exports/${enc(id)}`, code ? { password, code } : { password }),
};
