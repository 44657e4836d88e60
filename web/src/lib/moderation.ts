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

export const holdReasonLabel = (reason: string | undefined) =>
  reason === 'phi' ? 'Possible patient information'
    : reason === 'review' ? 'May name a patient (its author is not told)'
    : reason === 'pre_moderation' ? 'Pre-moderated space' : reason ? reason : 'Reported';
