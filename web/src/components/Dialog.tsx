// A modal built on the native <dialog>: focus is trapped inside, Esc closes, and focus returns to
// whatever opened it.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import Icon from './Icon';

export default function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => { dialog?.close(); opener?.focus?.(); };
  }, []);
  return (
    <dialog ref={ref} className={`dialog ${wide ? 'dialog-wide' : ''}`} aria-labelledby={titleId}
      onCancel={(e) => { e.preventDefault(); onClose(); }}
      onClick={(e) => { if (e.target === ref.current) onClose(); }}>
      <div className="dialog-body">
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" onClick={onClose} aria-label="Close"><Icon name="close" /></button>
        </header>
        {children}
      </div>
    </dialog>
  );
}

/** Asks before something that cannot be undone. */
export function Confirm({ title, text, confirmLabel, onConfirm, onClose, error }: {
  title: string; text: string; confirmLabel: string; onConfirm: () => void; onClose: () => void; error?: string;
}) {
  return (
    <Dialog title={title} onClose={onClose}>
      <p>{text}</p>
      {error && <p className="error" role="alert">{error}</p>}
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose}>Cancel</button>
        <button type="button" className="danger" onClick={onConfirm} autoFocus>{confirmLabel}</button>
      </div>
    </Dialog>
  );
}
