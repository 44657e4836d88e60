// Sign-in: the password, then, for an account with two-step sign-in, a code from the
// authenticator app (or a recovery code) on the same card.
import { useRef, useState } from 'react';
import { Api, ApiError, errorText, type SessionInfo } from '../api';
import { parseCode } from '../lib/mfa';

type Step = { name: 'password' } | { name: 'code'; token: string };

export default function Login({ onSignedIn, notice }: { onSignedIn: (s: SessionInfo) => void; notice?: string }) {
  const [step, setStep] = useState<Step>({ name: 'password' });
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const codeField = useRef<HTMLInputElement>(null);

  const startOver = (message = '') => {
    setStep({ name: 'password' });
    setCode('');
    setError(message);
  };

  const submitPassword = async () => {
    const answer = await Api.login(username.trim(), password);
    setPassword('');
    if (answer.kind === 'mfa') setStep({ name: 'code', token: answer.challenge.mfa_token });
    else onSignedIn(answer.session);
  };

  const submitCode = async (token: string) => {
    const typed = parseCode(code);
    if (!typed) {
      setError('Enter the 6-digit code from your authenticator app, or one of your recovery codes.');
      codeField.current?.focus();
      return;
    }
    try {
      onSignedIn(await Api.completeMfa(token, typed));
    } catch (err) {
      // The challenge expired or is not valid any more: the password must be given again.
      if (err instanceof ApiError && err.code === 'invalid_mfa_token') { startOver(errorText(err)); return; }
      setError(errorText(err));
      setCode('');
      codeField.current?.focus();
    }
  };

  const invalid = error ? true : undefined;
  const describedBy = (...ids: string[]) => [...ids, error ? 'login-error' : ''].filter(Boolean).join(' ') || undefined;
  return (
    <main className="login" id="main">
      <form className="login-card" aria-labelledby="login-title" onSubmit={async (e) => {
        e.preventDefault();
        if (busy) return;
        setBusy(true);
        setError('');
        try {
          if (step.name === 'password') await submitPassword();
          else await submitCode(step.token);
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}>
        <div className="login-brand" aria-hidden="true"><span className="brand-mark">R</span></div>
        {step.name === 'password' ? (
          <>
            <h1 id="login-title">Sign in to Rounds</h1>
            <p className="muted">Use your hospital account. Do not share patient details outside approved spaces.</p>
            {notice && <p className="notice" role="status">{notice}</p>}
            <label htmlFor="username">Username</label>
            <input id="username" name="username" autoComplete="username" autoCapitalize="none" spellCheck={false}
              value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus={!username}
              aria-invalid={invalid} aria-describedby={describedBy()} />
            <label htmlFor="password">Password</label>
            <input id="password" name="password" type="password" autoComplete="current-password"
              value={password} onChange={(e) => setPassword(e.target.value)} required autoFocus={!!username}
              aria-invalid={invalid} aria-describedby={describedBy()} />
            {error && <p className="error" id="login-error" role="alert">{error}</p>}
            <button type="submit" className="primary wide" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
          </>
        ) : (
          <>
            <h1 id="login-title">Two-step sign-in</h1>
            <p className="muted" id="mfa-instructions">Enter the 6-digit code your authenticator app shows for Rounds.</p>
            <label htmlFor="mfa-code">Authentication code</label>
            <input id="mfa-code" name="code" ref={codeField} className="code-input" inputMode="numeric" autoComplete="one-time-code"
              autoCapitalize="none" spellCheck={false} maxLength={12} autoFocus required
              value={code} onChange={(e) => setCode(e.target.value)}
              aria-invalid={invalid} aria-describedby={describedBy('mfa-instructions', 'mfa-hint')} />
            <p className="hint" id="mfa-hint">No phone with you? One of your recovery codes (like abcde-12345) works too, once each.</p>
            {error && <p className="error" id="login-error" role="alert">{error}</p>}
            <button type="submit" className="primary wide" disabled={busy}>{busy ? 'Checking…' : 'Verify'}</button>
            <p className="login-alt">
              <button type="button" className="link" onClick={() => startOver()}>Start over</button>
              <span className="muted"> with your username and password</span>
            </p>
          </>
        )}
      </form>
    </main>
  );
}
