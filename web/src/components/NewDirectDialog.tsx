import { useState } from 'react';
import { Api, errorText, type Space, type User } from '../api';
import { useApp } from '../state';
import Dialog from './Dialog';
import PeoplePicker from './PeoplePicker';

export default function NewDirectDialog({ preselect, onClose, onStarted }: { preselect: User[]; onClose: () => void; onStarted: (s: Space) => void }) {
  const { me } = useApp();
  const [people, setPeople] = useState<User[]>(preselect);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const toggle = (u: User) => setPeople((list) => (list.some((x) => x.id === u.id) ? list.filter((x) => x.id !== u.id) : [...list, u]));
  return (
    <Dialog title="New direct message" onClose={onClose}>
      <form className="stack" onSubmit={async (e) => {
        e.preventDefault();
        if (people.length === 0) { setError('Choose at least one person.'); return; }
        setBusy(true);
        setError('');
        try {
          onStarted(await Api.direct(people.map((p) => p.id)));
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}>
        <p className="hint">One person for a private conversation, up to eight for a group.</p>
        <PeoplePicker label="Find people" selected={people} onToggle={toggle} exclude={[me.id]} max={8} />
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy || people.length === 0}>
            {people.length > 1 ? `Start group conversation (${people.length + 1} people)` : 'Start conversation'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
