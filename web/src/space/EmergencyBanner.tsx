// Over a space read with emergency access: when it ends, that every read is recorded, and a way to
// end it now. No live events arrive for the space, so Refresh loads it again. When the time is up
// (the server's word, not this device's clock) the person leaves the space.
import { useEffect, useState } from 'react';
import { Api, ApiError, errorText, type Space } from '../api';
import { Emergency } from '../emergencyApi';
import { leaveEmergencySpace } from '../lib/emergency';
import { spaceTitle, timeOfDay } from '../lib/format';
import { useApp } from '../state';

// After expires_at the server closes a grant within about 15 s: ask it again at that pace.
const RECHECK_MS = 15_000;

export default function EmergencyBanner({ space, expiresAt, grantId, onRefresh }: {
  space: Space; expiresAt: number; grantId: number; onRefresh: () => void;
}) {
  const { me, toast } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const title = spaceTitle(space, me.id);

  useEffect(() => {
    let timer: number | undefined;
    let stopped = false;
    const check = () => {
      Api.space(space.id).then(
        (s) => { if (!stopped && s.emergency) timer = window.setTimeout(check, RECHECK_MS); },
        (e) => {
          if (stopped) return;
          if (e instanceof ApiError && e.status === 404) leaveEmergencySpace(space.id, `Your emergency access to ${title} has ended.`, toast);
          else timer = window.setTimeout(check, RECHECK_MS);
        });
    };
    timer = window.setTimeout(check, Math.max(1000, expiresAt - Date.now() + 1000));
    return () => { stopped = true; window.clearTimeout(timer); };
  }, [space.id, expiresAt, title, toast]);

  const end = async () => {
    setBusy(true);
    setError('');
    try {
      await Emergency.end(grantId);
      leaveEmergencySpace(space.id, `You ended your emergency access to ${title}.`, toast);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'grant_ended') leaveEmergencySpace(space.id, `Your emergency access to ${title} has already ended.`, toast);
      else setError(errorText(e));
      setBusy(false);
    }
  };

  return (
    <div className="emergency-banner">
      <p className="emergency-text" role="alert">
        <strong>Emergency access</strong> — ends at {timeOfDay(expiresAt)}. Every read is recorded and reviewed.
      </p>
      <div className="row">
        <button type="button" className="secondary small" onClick={onRefresh}>Refresh</button>
        <button type="button" className="danger small" onClick={() => void end()} disabled={busy}>{busy ? 'Ending…' : 'End now'}</button>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
