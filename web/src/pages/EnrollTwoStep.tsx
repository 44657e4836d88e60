// The only screen of a session whose account must set up two-step sign-in first (an
// administrator's policy): the server refuses everything else until it is done.
import type { User } from '../api';
import TwoStepSetup from '../components/TwoStepSetup';

export default function EnrollTwoStep({ me, onDone, onSignOut }: { me: User; onDone: () => void; onSignOut: () => void }) {
  return (
    <main className="login" id="main">
      <section className="login-card enroll-card" aria-labelledby="enroll-title" data-testid="mfa-enrollment">
        <div className="login-brand" aria-hidden="true"><span className="brand-mark">R</span></div>
        <h1 id="enroll-title">Set up two-step sign-in</h1>
        <p>Your organisation requires two-step sign-in for your account, {me.display_name}. Signing in will take your
          password and a code from an authenticator app on your phone. Set it up now to continue into Rounds.</p>
        <TwoStepSetup username={me.username} onDone={onDone} doneLabel="Continue to Rounds" />
        <p className="login-alt">
          <button type="button" className="link" onClick={onSignOut}>Sign out</button>
          <span className="muted"> and set it up later</span>
        </p>
      </section>
    </main>
  );
}
