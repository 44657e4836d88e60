// The password and, with two-step sign-in, a code: what an act that needs more than a session
// asks for (emergency access, taking up administration). The form that shows them keeps their
// state and its own errors; these are the fields and how the server's refusals map onto them.
import type { ReactNode } from 'react';

export type StepUpField = 'password' | 'code';

/** Refusals of a step-up that name no path, by the field they are about. */
export const STEP_UP_FIELD_OF_CODE: Record<string, StepUpField> = {
  invalid_credentials: 'password', account_locked: 'password', code_required: 'code', invalid_code: 'code',
};

export function StepUpFields({ id, withCode, password, code, onPassword, onCode, invalid, described, fieldError, autoFocus }: {
  /** Prefix of the fields' ids: `${id}-password`, `${id}-code`. */
  id: string;
  withCode: boolean;
  password: string;
  code: string;
  onPassword: (v: string) => void;
  onCode: (v: string) => void;
  invalid: (f: StepUpField) => boolean;
  described: (f: StepUpField, hint?: string) => string | undefined;
  fieldError: (f: StepUpField) => ReactNode;
  autoFocus?: boolean;
}) {
  return (
    <>
      <label htmlFor={`${id}-password`}>Your password</label>
      <input id={`${id}-password`} type="password" autoComplete="current-password" value={password} required autoFocus={autoFocus}
        onChange={(e) => onPassword(e.target.value)} aria-invalid={invalid('password') ? true : undefined} aria-describedby={described('password')} />
      {fieldError('password')}
      {withCode && (
        <>
          <label htmlFor={`${id}-code`}>Authentication code</label>
          <input id={`${id}-code`} className="code-input" inputMode="numeric" autoComplete="one-time-code" spellCheck={false}
            value={code} onChange={(e) => onCode(e.target.value)} required maxLength={12}
            aria-invalid={invalid('code') ? true : undefined} aria-describedby={described('code', `${id}-code-hint`)} />
          <p id={`${id}-code-hint`} className="hint">The 6-digit code your app shows now, or one of your recovery codes.</p>
          {fieldError('code')}
        </>
      )}
    </>
  );
}
