// The profile's "Two-step sign-in" section: whether it is on and how many recovery codes are
// left; set it up, turn it off (unless a policy requires it) or make new recovery codes.
import { useCallback, useEffect, useId, useState } from 'react';
import { Api, errorText, type MfaStatus } from '../api';
import { parseCode } from '../lib/mfa';
import TwoStepSetup from './TwoStepSetup';
import RecoveryCodes from './RecoveryCodes';

type Mode = { name: 'view' } | { name: 'setup' } | { name: 'disable' } | { name: 'regenerate' } | { name: 'codes'; codes: string[] };

export default function TwoStepSettings({ username }: { username: string }) {
  const [status, setStatus] = useState<MfaStatus | null | undefined>(undefined);
  const [loadError, setLoadError] = useState('');
  const [mode, setMode] = useState<Mode>({ name: 'view' });
  const [notice, setNotice] = useState('');

  const load = useCallback(() => {
    Api.me().then((s) => { setStatus(s.mfa ?? null); setLoadError(''); }).catch((e) => setLoadError(errorText(e)));
  }, []);
  useEffect(load, [load]);

  // Back to the summary, which is read again. What a change is known to have done shows at once,
  // not the status from before it while the new one loads: `known` patches it, and without it
  // (set-up, whose code count is the server's) the summary waits for the reload.
  const back = (text = '', known?: Partial<MfaStatus>) => {
    setMode({ name: 'view' });
    setNotice(text);
    if (text) setStatus((s) => (s && known ? { ...s, ...known } : undefined));
    load();
  };
  // A server without two-step sign-in says nothing about it: nor does this page.
  if (status === null) return null;

  return (
    <section className="card stack" aria-labelledby="profile-mfa" data-testid="mfa-settings">
      <h2 id="profile-mfa">Two-step sign-in</h2>
      {loadError && <p className="error" role="alert">{loadError}</p>}
      {status === undefined && !loadError && <p className="muted">Loading…</p>}
      {status && mode.name === 'view' && <Summary status={status} />}
      {notice && mode.name === 'view' && <p className="success" role="status">{notice}</p>}

      {status && mode.name === 'view' && (
        <div className="row">
          {!status.enabled && <button type="button" className="primary" onClick={() => { setNotice(''); setMode({ name: 'setup' }); }}>Set up two-step sign-in</button>}
          {status.enabled && <button type="button" className="secondary" onClick={() => { setNotice(''); setMode({ name: 'regenerate' }); }}>New recovery codes</button>}
          {status.enabled && !status.required && <button type="button" className="secondary danger" onClick={() => { setNotice(''); setMode({ name: 'disable' }); }}>Turn off</button>}
        </div>
      )}
      {status?.enabled && status.required && mode.name === 'view' && (
        <p className="hint">Your organisation requires two-step sign-in for your account, so it cannot be turned off.
          If you lose your phone, sign in with a recovery code or ask an administrator to reset it.</p>
      )}

      {mode.name === 'setup' && (
        <TwoStepSetup username={username} onCancel={() => back()} onDone={() => back('Two-step sign-in is on.')} />
      )}
      {mode.name === 'disable' && (
        <Reauthenticate submitLabel="Turn off" danger
          explanation="Turning it off means your password alone signs you in again."
          onCancel={() => back()}
          onSubmit={async (password, code) => {
            await Api.disableTotp(password, code);
            back('Two-step sign-in is off.', { enabled: false, recovery_codes_left: 0 });
          }} />
      )}
      {mode.name === 'regenerate' && (
        <Reauthenticate submitLabel="Make new codes"
          explanation="New recovery codes replace the ones you have: the old ones stop working."
          onCancel={() => back()}
          onSubmit={async (password, code) => {
            const { recovery_codes } = await Api.newRecoveryCodes(password, code);
            setMode({ name: 'codes', codes: recovery_codes });
          }} />
      )}
      {mode.name === 'codes' && (
        <RecoveryCodes codes={mode.codes} username={username}
          onDone={() => back('New recovery codes are ready.', { recovery_codes_left: mode.codes.length })} />
      )}
    </section>
  );
}

function Summary({ status }: { status: MfaStatus }) {
  if (!status.enabled) {
    return (
      <p data-testid="mfa-state">
        <strong>Off.</strong> With it on, signing in also takes a code from an authenticator app on your phone,
        so a password someone else learns is not enough to open your account.
      </p>
    );
  }
  const left = status.recovery_codes_left;
  return (
    <>
      <p data-testid="mfa-state"><strong>On.</strong> You sign in with your password and a code from your authenticator app.</p>
      <p className={left <= 2 ? 'notice' : 'muted'} data-testid="mfa-codes-left">
        {left === 1 ? '1 recovery code left.' : `${left} recovery codes left.`}
        {left <= 2 ? ' Make new ones before you run out.' : ''}
      </p>
    </>
  );
}

/** The password and a current code, asked before a change to how the person signs in. */
function Reauthenticate({ submitLabel, explanation, danger, onSubmit, onCancel }: {
  submitLabel: string; explanation: string; danger?: boolean;
  onSubmit: (password: string, code: string) => Promise<void>; onCancel: () => void;
}) {
  const id = useId();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const described = (own?: string) => [own, error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <form className="stack" onSubmit={async (e) => {
      e.preventDefault();
      if (busy) return;
      const typed = parseCode(code);
      if (!typed) { setError('Enter the 6-digit code from your app, or one of your recovery codes.'); return; }
      setBusy(true);
      setError('');
      try {
        await onSubmit(password, typed);
      } catch (err) {
        setError(errorText(err));
        setCode('');
        setBusy(false);
      }
    }}>
      <p id={`${id}-why`}>{explanation}</p>
      <label htmlFor={`${id}-password`}>Your password</label>
      <input id={`${id}-password`} type="password" autoComplete="current-password" value={password} required autoFocus
        onChange={(e) => setPassword(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={described(`${id}-why`)} />
      <label htmlFor={`${id}-code`}>Authentication code</label>
      <input id={`${id}-code`} className="code-input" inputMode="numeric" autoComplete="one-time-code" spellCheck={false}
        value={code} onChange={(e) => setCode(e.target.value)} required maxLength={12}
        aria-invalid={error ? true : undefined} aria-describedby={described(`${id}-code-hint`)} />
      <p id={`${id}-code-hint`} className="hint">The 6-digit code your app shows now, or one of your recovery codes.</p>
      {error && <p className="error" id={`${id}-error`} role="alert">{error}</p>}
      <div className="row">
        <button type="submit" className={danger ? 'danger' : 'primary'} disabled={busy}>{busy ? 'Checking…' : submitLabel}</button>
        <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
