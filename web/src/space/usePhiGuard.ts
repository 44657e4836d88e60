// The composer's PHI guard. While the author types, a debounced preview asks the server what the
// space's policy would do with the text. When a send is refused (422 phi_warning or phi_blocked)
// the refusal's findings replace the preview: a warning lets the author send the same post again
// with confirm_phi, a block says what to remove. Nothing here is stored beyond component state.
import { useEffect, useState } from 'react';
import type { PhiRule } from '../api';
import { Gov, type PhiAction, type PhiFinding } from '../governanceApi';
import { phiRefusal } from '../lib/phi';

export type PhiFields = Record<string, string>;

interface Refusal { code: 'phi_warning' | 'phi_blocked'; findings: PhiFinding[]; text: string; snapshot: string }
interface Preview { action: PhiAction; findings: PhiFinding[]; snapshot: string }

const PREVIEW_DELAY_MS = 450;

/**
 * Watches the fields of a draft. `phiRule` is the space's rule when known: "allow" skips the
 * preview entirely. `parentId`: the thread a reply joins, so that the preview, like the post,
 * reads the body after the author's previous post in the same conversation; `messageId`: the
 * message an edit rewrites, read between the author's posts around it. Returns the state the
 * composer shows and a way to record a refusal.
 */
export function usePhiGuard(spaceId: number, fields: PhiFields, phiRule?: PhiRule, parentId?: number, messageId?: number) {
  const snapshot = JSON.stringify(fields);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const body = fields.body ?? '';
  const title = fields.title ?? '';

  useEffect(() => {
    if (phiRule === 'allow' || (!body.trim() && !title.trim())) return;
    const ctrl = new AbortController();
    const timer = window.setTimeout(() => {
      Gov.phiCheck(spaceId, {
        body, ...(title ? { title } : {}), ...(parentId ? { parent_id: parentId } : {}), ...(messageId ? { message_id: messageId } : {}),
      }, ctrl.signal)
        .then((r) => setPreview({ action: r.action, findings: Array.isArray(r.findings) ? r.findings : [], snapshot: JSON.stringify({ body, title }) }))
        // The preview is advisory: the send itself is checked by the server either way.
        .catch(() => {});
    }, PREVIEW_DELAY_MS);
    return () => { ctrl.abort(); window.clearTimeout(timer); };
  }, [spaceId, body, title, phiRule, parentId, messageId]);

  // A refusal or preview describes the text it was computed for: once the text changes its byte
  // offsets no longer point at the same words, so it is not shown until the next one arrives.
  const activeRefusal = refusal && refusal.snapshot === snapshot ? refusal : null;
  const activePreview = preview && phiRule !== 'allow' && preview.snapshot === JSON.stringify({ body, title }) ? preview : null;

  return {
    refusal: activeRefusal,
    preview: activePreview,
    /** Records a refused send; returns false when `e` is not a PHI refusal. */
    refused(e: unknown): boolean {
      const r = phiRefusal(e);
      if (!r) return false;
      setRefusal({ ...r, snapshot });
      return true;
    },
    clear() { setRefusal(null); setPreview(null); },
  };
}
