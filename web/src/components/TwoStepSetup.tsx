// Setting up two-step sign-in, used on the profile page and on the screen a policy shows before
// anything else: the password again, then the app scans a QR code (or takes the key by hand) and
// proves it with a code, then the recovery codes are shown once.
import { useId, useState } from 'react';
import { Api, ApiError, errorText, type TotpSetup } from '../api';
import { groupInFours, otpauthAccount, parseCode, plainSecret } from '../lib/mfa';
import QrCode from './QrCode';
import RecoveryCodes from './RecoveryCodes';

type Step = { name: 'password'; error?: string } | { name: 'scan'; setup: TotpSetup } | { name: 'codes'; codes: string[] };

/** `onDone` runs once the recovery codes were seen; two-step sign-in is on from the step before. */
export default function TwoStepSetup({ username, onDone, onCancel, doneLabel }: {
  username: string; onDone: () => void; onCancel?: () => void; doneLabel?: string;
}) {
  const [step, setStep] = useState<Step>({ name: 'password' });
  if (step.name === 'password') {
    return <PasswordStep initialError={step.error} onCancel={onCancel} onStarted={(setup) => setStep({ name: 'scan', setup })} />;
  }
  if (step.name === 'scan') {
    return <ScanStep setup={step.setup} onCancel={onCancel}
      onConfirmed={(codes) => setStep({ name: 'codes', codes })}
      onRestart={(error) => setStep({ name: 'password', error })} />;
  }
  return <RecoveryCodes codes={step.codes} username={username} onDone={onDone} doneLabel={doneLabel} />;
}

function PasswordStep({ initialError, onStarted, onCancel }: {
  initialError?: string; onStarted: (setup: TotpSetup) => void; onCancel?: () => void;
}) {
  const id = useId();
  const [password, setPassword] = useState('');
  const [error, setError] = useState(initialError ?? '');
  const [busy, setBusy] = useState(false);
  return (
    <form className="stack" onSubmit={async (e) => {
      e.preventDefault();
      if (busy) return;
      setBusy(true);
      setError('');
      try {
        const setup = await Api.startTotpSetup(password);
        setPassword('');
        onStarted(setup);
      } catch (err) {
        setError(errorText(err));
      } finally {
        setBusy(false);
      }
    }}>
      <label htmlFor={`${id}-password`}>Your password</label>
      <input id={`${id}-password`} type="password" autoComplete="current-password" value={password} required autoFocus
        onChange={(e) => setPassword(e.target.value)} aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-why${error ? ` ${id}-error` : ''}`} />
      <p id={`${id}-why`} className="hint">To change how you sign in, first confirm it is you.</p>
      {error && <p className="error" id={`${id}-error`} role="alert">{error}</p>}
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Checking…' : 'Continue'}</button>
        {onCancel && <button type="button" className="secondary" onClick={onCancel}>Cancel</button>}
      </div>
    </form>
  );
}

function ScanStep({ setup, onConfirmed, onRestart, onCancel }: {
  setup: TotpSetup; onConfirmed: (codes: string[]) => void; onRestart: (error: string) => void; onCancel?: () => void;
}) {
  const id = useId();
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const account = otpauthAccount(setup.otpauth_uri);
  return (
    <div className="stack">
      <ol className="setup-steps">
        <li>Open an authenticator app on your phone (one your organisation approves) and add an account.</li>
        <li>Scan this QR code with it.
          <QrCode text={setup.otpauth_uri} label={`QR code to add ${account ? `${account.issuer} (${account.account})` : 'Rounds'} to an authenticator app`} />
        </li>
        <li>If you cannot scan it, type this key into the app instead (time-based, 6 digits):
          <code className="mfa-secret" data-testid="mfa-secret" data-secret={plainSecret(setup.secret)}>{groupInFours(setup.secret)}</code>
        </li>
        <li>Enter the 6-digit code the app now shows.</li>
      </ol>
      <form className="stack" onSubmit={async (e) => {
        e.preventDefault();
        if (busy) return;
        const typed = parseCode(code, ['totp']);
        if (!typed) { setError('Enter the 6 digits the app shows for Rounds.'); return; }
        setBusy(true);
        setError('');
        try {
          const { recovery_codes } = await Api.confirmTotp(typed);
          onConfirmed(recovery_codes);
        } catch (err) {
          // The set-up lapsed (or was replaced in another tab): it must start again.
          if (err instanceof ApiError && err.code === 'mfa_setup_not_started') { onRestart(errorText(err)); return; }
          setError(errorText(err));
          setCode('');
        } finally {
          setBusy(false);
        }
      }}>
        <label htmlFor={`${id}-code`}>Authentication code</label>
        <input id={`${id}-code`} className="code-input" inputMode="numeric" autoComplete="one-time-code" autoFocus
          value={code} onChange={(e) => setCode(e.target.value)} required maxLength={12} spellCheck={false}
          aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined} />
        {error && <p className="error" id={`${id}-error`} role="alert">{error}</p>}
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Checking…' : 'Turn on'}</button>
          {onCancel && <button type="button" className="secondary" onClick={onCancel}>Cancel</button>}
        </div>
      </form>
    </div>
  );
}
