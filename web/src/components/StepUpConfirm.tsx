// A dialog for an act that needs more than a session: it says what the act does, asks for the
// password again (and a code, with two-step sign-in), and maps the server's refusals onto those
// fields. Taking up administration, releasing a legal hold and removing an export's files use it.
import { useEffect, useId, useState, type ReactNode } from 'react';
import { Api, ApiError, errorText } from '../api';
import { parseCode } from '../lib/mfa';
import Dialog from './Dialog';
import { STEP_UP_FIELD_OF_CODE, StepUpFields, type StepUpField } from './StepUpFields';

type Field = StepUpField | 'form';

export default function StepUpConfirm({ title, children, confirmLabel, busyLabel = 'Checking…', danger, onConfirm, onClose }: {
  title: string;
  /** What the act does, shown above the fields. */
  children: ReactNode;
  confirmLabel: string;
  busyLabel?: string;
  danger?: boolean;
  /** Sends the act with the password and the code (undefined without two-step sign-in); rejects with the server's refusal. */
  onConfirm: (password: string, code: string | undefined) => Promise<void>;
  onClose: () => void;
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
      await onConfirm(password, typed ?? undefined);
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
    <Dialog title={title} onClose={onClose}>
      <form className="stack" noValidate onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        {children}
        <StepUpFields id={id} withCode={twoStep} password={password} code={code} onPassword={setPassword} onCode={setCode}
          invalid={(f) => !!errors[f]} described={described} fieldError={fieldError} autoFocus />
        {errors.form && <p className="error" role="alert">{errors.form}</p>}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className={danger ? 'danger' : 'primary'} disabled={busy}>{busy ? busyLabel : confirmLabel}</button>
        </div>
      </form>
    </Dialog>
  );
}
