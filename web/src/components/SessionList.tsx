// The profile's "Where you're signed in" section: every live session of the account, with the
// device, the address and when it was last used. Any other session can be ended here, one at a
// time or all at once; ending one signs that device out at once (its live updates stop too).
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Api, ApiError, errorText, type LiveSession } from '../api';
import { fullTime, timeOfDay } from '../lib/format';
import { currentFirst, describeDevice, endedText, lastActiveText, signedInText } from '../lib/sessions';

const REFRESH_MS = 60_000;

export default function SessionList() {
  const id = useId();
  // undefined: loading; null: a server without this list, which the page then leaves out.
  const [sessions, setSessions] = useState<LiveSession[] | null | undefined>(undefined);
  const [loadedAt, setLoadedAt] = useState(0);
  const [loadError, setLoadError] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState<number | 'others' | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const load = useCallback(() => {
    Api.mySessions()
      .then(({ items }) => { setSessions(currentFirst(items)); setLoadedAt(Date.now()); setLoadError(''); })
      .catch((e) => {
        if (e instanceof ApiError && e.status === 404) setSessions(null);
        else setLoadError(errorText(e));
      });
  }, []);
  useEffect(() => {
    load();
    // Sessions end and begin elsewhere, and "last active" ages: keep the list current.
    const timer = window.setInterval(load, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  // The ended row's button is gone: keep focus in the section rather than losing it to the page.
  const done = (text: string) => {
    setResult({ ok: true, text });
    setBusy(null);
    heading.current?.focus();
    load();
  };

  // Only other sessions have the button: this one ends with "Sign out" in the top bar.
  const end = async (s: LiveSession) => {
    if (busy !== null) return;
    setBusy(s.id);
    setResult(null);
    try {
      await Api.endSession(s.id);
      setSessions((list) => list?.filter((x) => x.id !== s.id));
      done(`Ended the session on ${describeDevice(s)}. It is signed out.`);
    } catch (e) {
      // Expired or ended elsewhere in the meantime: the list was only out of date.
      if (e instanceof ApiError && e.status === 404) done('That session had already ended.');
      else { setResult({ ok: false, text: errorText(e) }); setBusy(null); }
    }
  };

  const endOthers = async () => {
    if (busy !== null) return;
    setBusy('others');
    setResult(null);
    try {
      const { ended } = await Api.endOtherSessions();
      setSessions((list) => list?.filter((x) => x.current));
      done(endedText(ended));
    } catch (e) {
      setResult({ ok: false, text: errorText(e) });
      setBusy(null);
    }
  };

  if (sessions === null) return null;
  const others = sessions?.filter((s) => !s.current) ?? [];

  return (
    <section className="card stack" aria-labelledby={`${id}-heading`} data-testid="sessions">
      <h2 id={`${id}-heading`} ref={heading} tabIndex={-1}>{"Where you're signed in"}</h2>
      <p className="hint" id={`${id}-why`}>
        Ending a session signs that device out at once. If you see one you do not recognise, end it and change your password.
      </p>
      {loadError && <p className="error" role="alert">{loadError}</p>}
      {sessions === undefined && !loadError && <p className="muted">Loading…</p>}
      {sessions && sessions.length > 0 && (
        <ul className="session-list">
          {sessions.map((s) => {
            const name = `${id}-session-${s.id}`;
            return (
              <li key={s.id} className={s.current ? 'session current' : 'session'} data-testid="session" data-session-id={s.id} aria-labelledby={name}>
                <div className="session-about">
                  <p className="session-device">
                    <strong id={name} title={s.user_agent || undefined}>{describeDevice(s)}</strong>
                    {s.current && <span className="pill good">This device</span>}
                    {!!s.admin_elevated_until && <span className="pill warn">Administering until {timeOfDay(s.admin_elevated_until)}</span>}
                  </p>
                  <dl className="session-facts">
                    <div><dt>Address</dt><dd>{s.address || 'Unknown'}</dd></div>
                    <div><dt>Signed in</dt><dd><time dateTime={new Date(s.created_at).toISOString()} title={fullTime(s.created_at)}>{signedInText(s.created_at, loadedAt)}</time></dd></div>
                    <div>
                      <dt>Last active</dt>
                      <dd>{s.current
                        ? 'Now'
                        : <time dateTime={new Date(s.last_seen_at).toISOString()} title={fullTime(s.last_seen_at)}>{lastActiveText(s.last_seen_at, loadedAt)}</time>}
                      </dd>
                    </div>
                  </dl>
                </div>
                {!s.current && (
                  <button type="button" className="secondary danger small" aria-describedby={name}
                    disabled={busy !== null} aria-busy={busy === s.id || undefined} onClick={() => { void end(s); }}>
                    {busy === s.id ? 'Ending…' : 'End session'}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {result && <p className={result.ok ? 'success' : 'error'} role={result.ok ? 'status' : 'alert'}>{result.text}</p>}
      {others.length > 0 && (
        <div className="row">
          <button type="button" className="secondary danger" aria-describedby={`${id}-why`} disabled={busy !== null} onClick={() => { void endOthers(); }}>
            {busy === 'others' ? 'Ending…' : 'End all other sessions'}
          </button>
        </div>
      )}
    </section>
  );
}
