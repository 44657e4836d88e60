import { useState } from 'react';
import { Api, errorText, type SessionInfo } from '../api';

export default function Login({ onSignedIn, notice }: { onSignedIn: (s: SessionInfo) => void; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <main className="login" id="main">
      <form className="login-card" aria-labelledby="login-title" onSubmit={async (e) => {
        e.preventDefault();
        if (busy) return;
        setBusy(true);
        setError('');
        try {
          const session = await Api.login(username.trim(), password);
          setPassword('');
          onSignedIn(session);
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}>
        <div className="login-brand" aria-hidden="true"><span className="brand-mark">R</span></div>
        <h1 id="login-title">Sign in to Rounds</h1>
        <p className="muted">Use your hospital account. Do not share patient details outside approved spaces.</p>
        {notice && <p className="notice" role="status">{notice}</p>}
        <label htmlFor="username">Username</label>
        <input id="username" name="username" autoComplete="username" autoCapitalize="none" spellCheck={false}
          value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus
          aria-invalid={error ? true : undefined} aria-describedby={error ? 'login-error' : undefined} />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password"
          value={password} onChange={(e) => setPassword(e.target.value)} required
          aria-invalid={error ? true : undefined} aria-describedby={error ? 'login-error' : undefined} />
        {error && <p className="error" id="login-error" role="alert">{error}</p>}
        <button type="submit" className="primary wide" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
