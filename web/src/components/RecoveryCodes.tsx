// Freshly made recovery codes, shown this once: a list to copy, save as a file or write down.
import { useEffect, useRef, useState } from 'react';
import { recoveryCodesText } from '../lib/mfa';

export default function RecoveryCodes({ codes, username, onDone, doneLabel = 'Done' }: {
  codes: string[]; username: string; onDone: () => void; doneLabel?: string;
}) {
  const [copied, setCopied] = useState<{ ok: boolean; text: string } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // The codes replace the form the person was typing in: take focus to them.
  useEffect(() => { heading.current?.focus(); }, []);
  const text = () => recoveryCodesText(codes, username, new Date());

  return (
    <div className="stack recovery">
      <h3 ref={heading} tabIndex={-1}>Save your recovery codes</h3>
      <p>If you lose your phone, each of these codes signs you in once instead of a code from the app.
        Keep them somewhere safe, away from your phone. <strong>They are shown only now.</strong></p>
      <ol className="recovery-codes" data-testid="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => <li key={c}><code>{c}</code></li>)}
      </ol>
      <div className="row">
        <button type="button" className="secondary" onClick={async () => {
          try {
            await navigator.clipboard.writeText(text());
            setCopied({ ok: true, text: 'Copied.' });
          } catch {
            setCopied({ ok: false, text: 'This browser did not allow copying. Download them or write them down.' });
          }
        }}>Copy</button>
        <button type="button" className="secondary" onClick={() => {
          const url = URL.createObjectURL(new Blob([text()], { type: 'text/plain' }));
          const link = document.createElement('a');
          link.href = url;
          link.download = 'rounds-recovery-codes.txt';
          link.click();
          window.setTimeout(() => URL.revokeObjectURL(url), 1000);
        }}>Download</button>
        <button type="button" className="primary" onClick={onDone}>{doneLabel}</button>
      </div>
      {copied && <p className={copied.ok ? 'success' : 'error'} role={copied.ok ? 'status' : 'alert'}>{copied.text}</p>}
    </div>
  );
}
