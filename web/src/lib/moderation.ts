// Words for moderation decisions, shared by the author's notices and the compliance screens.
import type { ModerationAction, ModerationKind } from '../governanceApi';

export const ACTION_LABEL: Record<ModerationKind, string> = {
  approve: 'Approved', hide: 'Hidden', remove: 'Removed', warn: 'Warned', suspend: 'Suspended',
};

/** What the author is told when a moderator acts on their post, or decides their appeal of it. */
export function moderationText(a: Pick<ModerationAction, 'action' | 'reason'> & { appeal?: ModerationAction['appeal'] }): string {
  const outcome = a.appeal?.outcome;
  if (outcome === 'upheld' || outcome === 'reversed') {
    const because = a.appeal?.reason ? ` Reason: ${a.appeal.reason}` : '';
    return outcome === 'reversed'
      ? `Your appeal was granted: the decision (${ACTION_LABEL[a.action].toLowerCase()}) is reversed.${because}`
      : `Your appeal was turned down: the decision (${ACTION_LABEL[a.action].toLowerCase()}) stands.${because}`;
  }
  const why = a.reason ? ` Reason: ${a.reason}` : '';
  switch (a.action) {
    case 'approve': return 'A moderator approved your post: it is live now.';
    case 'hide': return `A moderator hid your post.${why}`;
    case 'remove': return `A moderator removed your post.${why}`;
    case 'warn': return `A moderator warned you about a post.${why}`;
    case 'suspend': return `A moderator suspended you from posting in a space.${why}`;
    default: return `A moderator acted on your post.${why}`;
  }
}

/**
 * Why `userId` may not decide the appeal of `a`, as the server refuses it whatever their role: they
 * made the decision appealed, or they are its author who appealed. Null: they may, if they moderate
 * the space or are a compliance officer.
 */
export function appealBarred(a: Pick<ModerationAction, 'moderator_id' | 'target_user_id'>, userId: number): string | null {
  if (a.moderator_id === userId) return 'You made this decision: another moderator or a compliance officer decides the appeal.';
  if (a.target_user_id === userId) return 'This is your appeal: another moderator or a compliance officer decides it.';
  return null;
}

export const holdReasonLabel = (reason: string | undefined) =>
  reason === 'phi' ? 'Possible patient information'
    : reason === 'review' ? 'May name a patient (its author is not told)'
    : reason === 'pre_moderation' ? 'Pre-moderated' : reason ? reason : 'Reported';
