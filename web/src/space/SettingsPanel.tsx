import { useState } from 'react';
import { Api, errorText, type Space } from '../api';
import Icon from '../components/Icon';

export default function SettingsPanel({ space, onClose, onSaved }: { space: Space; onClose: () => void; onSaved: (s: Space) => void }) {
  const [name, setName] = useState(space.name);
  const [topic, setTopic] = useState(space.topic);
  const [visibility, setVisibility] = useState(space.visibility);
  const [joinPolicy, setJoinPolicy] = useState(space.join_policy);
  const [archived, setArchived] = useState(space.archived);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');
  return (
    <aside className="side-panel" aria-labelledby="settings-title">
      <header className="panel-head">
        <h2 id="settings-title" tabIndex={-1}>Settings</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close settings"><Icon name="close" /></button>
      </header>
      <form className="panel-body stack" onSubmit={async (e) => {
        e.preventDefault();
        setError(''); setSaved('');
        try {
          const s = await Api.updateSpace(space.id, { name: name.trim(), topic, visibility, join_policy: visibility === 'private' ? 'invite' : joinPolicy, archived });
          onSaved(s);
          setSaved('Saved.');
        } catch (err) { setError(errorText(err)); }
      }}>
        <label htmlFor="set-name">Name</label>
        <input id="set-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} />
        <label htmlFor="set-topic">Topic</label>
        <textarea id="set-topic" value={topic} onChange={(e) => setTopic(e.target.value)} rows={3} maxLength={300} />
        <label htmlFor="set-visibility">Who can find it</label>
        <select id="set-visibility" value={visibility} onChange={(e) => setVisibility(e.target.value as Space['visibility'])}>
          <option value="public">Public</option>
          <option value="private">Private</option>
        </select>
        {visibility === 'public' && (
          <>
            <label htmlFor="set-join">Who can join</label>
            <select id="set-join" value={joinPolicy} onChange={(e) => setJoinPolicy(e.target.value as Space['join_policy'])}>
              <option value="open">Anyone on staff</option>
              <option value="invite">Only people added by an owner or moderator</option>
            </select>
          </>
        )}
        <label className="check"><input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> Archived (read only for everyone)</label>
        {error && <p className="error" role="alert">{error}</p>}
        {saved && <p className="success" role="status">{saved}</p>}
        <button type="submit" className="primary">Save settings</button>
      </form>
    </aside>
  );
}
