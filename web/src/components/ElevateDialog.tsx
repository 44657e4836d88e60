// Taking up administration: an administrator's account acts as staff until its session confirms
// the password again (and a code, with two-step sign-in). It lasts a quarter of an hour by default,
// is on the audit trail, and ends early with "Stop administering" in the top bar.
import { Api } from '../api';
import StepUpConfirm from './StepUpConfirm';

export default function ElevateDialog({ onClose, onElevated }: {
  onClose: () => void;
  /** `leftMs`: how long it lasts, by the server's clock; `until`: its end, the server's time. */
  onElevated: (until: number, leftMs: number) => void;
}) {
  return (
    <StepUpConfirm title="Administer Rounds" confirmLabel="Administer" onClose={onClose}
      onConfirm={async (password, code) => {
        const done = await Api.elevate(password, code);
        onElevated(done.admin_elevated_until, done.admin_elevation_left_ms);
      }}>
      <p>
        Your account acts as a staff member until you confirm it is you. Administering lets you manage
        accounts, departments and the patient index, and open any space. It ends on its own after a short
        while (15 minutes unless your organization set another time) or when you stop, and it is on the
        audit trail.
      </p>
    </StepUpConfirm>
  );
}
