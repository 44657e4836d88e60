// Reactions on offer, and a small hook for message actions that report failures inline.
import { errorText } from '../api';

export const EMOJI = ['👍', '❤️', '🎉', '✅', '👀', '🙏', '😂', '😮'] as const;
const EMOJI_NAMES: Record<string, string> = {
  '👍': 'thumbs up', '❤️': 'heart', '🎉': 'celebrate', '✅': 'done', '👀': 'looking', '🙏': 'thanks', '😂': 'laughing', '😮': 'surprised',
};
export const emojiName = (e: string) => EMOJI_NAMES[e] ?? e;

/** Runs an API action and reports a failure through onError (shown inline by the caller). */
export function useAction(onError: (text: string) => void) {
  return async (fn: () => Promise<unknown>) => {
    try { await fn(); } catch (e) { onError(errorText(e)); }
  };
}
