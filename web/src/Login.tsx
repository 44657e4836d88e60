import { useState } from 'react';
import { api, errorText, type User } from './api';

export default function Login({ onSignedIn }: { onSignedIn: (user: User, csrf: string) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <main className="login">
      <form onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
          const r = await api<{ user: User; csrf_token: string }>('POST', '/api/v1/auth/login', { username, password });
          onSignedIn(r.user, r.csrf_token);
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}>
        <h1>Rounds</h1>
        <p>Sign in with your hospital account.</p>
        <label htmlFor="username">Username</label>
        <input id="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        <label htmlFor="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
