// My profile: display name and e-mail, my password, two-step sign-in and where I am signed in.
// Each form shows its own result. A new e-mail address takes the current password, as a changed
// address is how an account is taken over (password resets go to it).
import { useState } from 'react';
import { Api, ApiError, errorText } from '../api';
import { useApp } from '../state';
import Avatar from '../components/Avatar';
import MyModeration from '../components/MyModeration';
import SessionList from '../components/SessionList';
import TwoStepSettings from '../components/TwoStepSettings';
import { useDepartments } from '../lib/useDepartments';

export default function ProfilePage() {
  const { me, setMe } = useApp();
  const departments = useDepartments();
  const [name, setName] = useState(me.display_name);
  const [email, setEmail] = useState(me.email);
  const [emailPassword, setEmailPassword] = useState('');
  const [profileMsg, setProfileMsg] = useState<{ ok: boolean; text: string; field?: 'password' } | null>(null);
  const [saving, setSaving] = useState(false);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [pwMsg, setPwMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const depts = me.department_ids.map((d) => departments.find((x) => x.id === d)?.name).filter(Boolean);
  const emailChanged = email.trim() !== me.email;
  const passwordRefused = profileMsg?.field === 'password';

  return (
    <section className="page profile-page">
      <div className="person-hero">
        <Avatar id={me.id} name={me.display_name} size="lg" />
        <div>
          <h1 tabIndex={-1}>Your profile</h1>
          <p className="muted">@{me.username}{me.job_role ? ` · ${me.job_role}` : ''}{depts.length ? ` · ${depts.join(', ')}` : ''}</p>
        </div>
      </div>
      <form className="card stack" aria-labelledby="profile-details" onSubmit={async (e) => {
        e.preventDefault();
        if (saving) return;  // a second wrong password would count towards the lock-out too
        setProfileMsg(null);
        setSaving(true);
        try {
          const user = await Api.updateMe({
            display_name: name.trim(), email: email.trim(), ...(emailChanged ? { current_password: emailPassword } : {}),
          });
          setMe(user);
          setEmail(user.email);
          setEmailPassword('');
          setProfileMsg({ ok: true, text: 'Profile saved.' });
        } catch (err) {
          const wrongPassword = err instanceof ApiError && (err.code === 'invalid_credentials' || err.code === 'reauthentication_required');
          if (wrongPassword) setEmailPassword('');
          setProfileMsg({ ok: false, text: errorText(err), field: wrongPassword ? 'password' : undefined });
        } finally { setSaving(false); }
      }}>
        <h2 id="profile-details">Details</h2>
        <label htmlFor="profile-name">Display name</label>
        <input id="profile-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} autoComplete="name" />
        <label htmlFor="profile-email">E-mail</label>
        <input id="profile-email" type="email" value={email} autoComplete="email"
          onChange={(e) => { setEmail(e.target.value); if (e.target.value.trim() === me.email) setEmailPassword(''); }}
          aria-describedby={emailChanged ? 'profile-email-why' : undefined} />
        {emailChanged && (
          <>
            <p id="profile-email-why" className="hint">Changing your e-mail address needs your current password.</p>
            <label htmlFor="profile-email-password">Current password</label>
            <input id="profile-email-password" type="password" autoComplete="current-password" value={emailPassword}
              onChange={(e) => setEmailPassword(e.target.value)} required
              aria-invalid={passwordRefused || undefined}
              aria-describedby={passwordRefused ? 'profile-email-why profile-error' : 'profile-email-why'} />
          </>
        )}
        <p className="hint">Your job role and department are kept by the administrators.</p>
        {profileMsg && <p className={profileMsg.ok ? 'success' : 'error'} id={profileMsg.ok ? undefined : 'profile-error'} role={profileMsg.ok ? 'status' : 'alert'}>{profileMsg.text}</p>}
        <button type="submit" className="primary" disabled={saving}>Save profile</button>
      </form>
      <form className="card stack" aria-labelledby="profile-password" onSubmit={async (e) => {
        e.preventDefault();
        setPwMsg(null);
        if (next !== confirm) { setPwMsg({ ok: false, text: 'The new passwords do not match.' }); return; }
        setBusy(true);
        try {
          await Api.changePassword(current, next);
          setCurrent(''); setNext(''); setConfirm('');
          setPwMsg({ ok: true, text: 'Password changed. Your other sessions were signed out.' });
        } catch (err) { setPwMsg({ ok: false, text: errorText(err) }); }
        finally { setBusy(false); }
      }}>
        <h2 id="profile-password">Change password</h2>
        <label htmlFor="pw-current">Current password</label>
        <input id="pw-current" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
        <label htmlFor="pw-new">New password</label>
        <input id="pw-new" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required minLength={12} aria-describedby="pw-rules" />
        <p id="pw-rules" className="hint">At least 12 characters. A phrase of several words is easiest to remember.</p>
        <label htmlFor="pw-confirm">New password again</label>
        <input id="pw-confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required minLength={12} />
        {pwMsg && <p className={pwMsg.ok ? 'success' : 'error'} role={pwMsg.ok ? 'status' : 'alert'}>{pwMsg.text}</p>}
        <button type="submit" className="primary" disabled={busy}>Change password</button>
      </form>
      <TwoStepSettings username={me.username} />
      <SessionList />
      <MyModeration />
    </section>
  );
}
