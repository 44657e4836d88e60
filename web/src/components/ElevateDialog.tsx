// Taking up administration: an administrator's account acts as staff until its session confirms
// the password again (and a code, with two-step sign-in). It lasts a quarter of an hour by default,
// is on the audit trail, and ends early with "Stop administering" in the top bar.
import { useEffect, useId, useState } from 'react';
import { Api, ApiError, errorText } from '../api';
import { parseCode } from '../lib/mfa';
import Dialog from './Dialog';
import { STEP_UP_FIELD_OF_CODE, StepUpFields, type StepUpField } from './StepUpFields';

type Field = StepUpField | 'form';

export default function ElevateDialog({ onClose, onElevated }: {
  onClose: () => void;
  /** `leftMs`: how long it lasts, by the server's clock; `until`: its end, the server's time. */
  onElevated: (until: number, leftMs: number) => void;
}) {
  const id = useId();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  // Whether the account has two-step sign-in (the code field shows only then); the server may
  // also ask for a code this dialog did not know the account needs.
  const [twoStep, setTwoStep] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [busy, setBusy] = useState(false);
  useEffect(() => { Api.me().then((s) => setTwoStep(!!s.mfa?.enabled)).catch(() => {}); }, []);

  useEffect(() => {
    const first = (['password', 'code'] as const).find((f) => errors[f]);
    if (first) document.getElementById(`${id}-${first}`)?.focus();
  }, [errors, id]);

  const described = (f: StepUpField, hint?: string) => [hint, errors[f] ? `${id}-${f}-error` : ''].filter(Boolean).join(' ') || undefined;
  const fieldError = (f: StepUpField) => errors[f] && <p className="error field-error" id={`${id}-${f}-error`}>{errors[f]}</p>;

  const submit = async () => {
    if (busy) return;
    const problems: Partial<Record<Field, string>> = {};
    if (!password) problems.password = 'Enter your password.';
    const typed = twoStep ? parseCode(code) : null;
    if (twoStep && !typed) problems.code = 'Enter the 6-digit code from your app, or one of your recovery codes.';
    if (Object.keys(problems).length > 0) { setErrors(problems); return; }
    setBusy(true);
    setErrors({});
    try {
      const done = await Api.elevate(password, typed ?? undefined);
      onElevated(done.admin_elevated_until, done.admin_elevation_left_ms);
    } catch (e) {
      const field: Field = (e instanceof ApiError && STEP_UP_FIELD_OF_CODE[e.code]) || 'form';
      if (e instanceof ApiError && e.code === 'code_required') setTwoStep(true);
      // A wrong password or code is typed again, never sent twice by mistake.
      if (field === 'password') setPassword('');
      if (field === 'code') setCode('');
      setErrors({ [field]: errorText(e) });
      setBusy(false);
    }
  };

  return (
    <Dialog title="Administer Rounds" onClose={onClose}>
      <form className="stack" noValidate onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <p id={`${id}-what`}>
          Your account acts as a staff member until you confirm it is you. Administering lets you manage
          accounts, departments and the patient index, and open any space. It ends on its own after a short
          while (15 minutes unless your organization set another time) or when you stop, and it is on the
          audit trail.
        </p>
        <StepUpFields id={id} withCode={twoStep} password={password} code={code} onPassword={setPassword} onCode={setCode}
          invalid={(f) => !!errors[f]} described={described} fieldError={fieldError} autoFocus />
        {errors.form && <p className="error" role="alert">{errors.form}</p>}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Checking…' : 'Administer'}</button>
        </div>
      </form>
    </Dialog>
  );
}
