import { useState } from 'react';
import { Api, errorText, type Space } from '../api';
import Dialog from './Dialog';

export default function CreateSpaceDialog({ kind: initialKind, onClose, onCreated }: {
  kind: 'community' | 'channel'; onClose: () => void; onCreated: (s: Space) => void;
}) {
  const [kind, setKind] = useState(initialKind);
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const [joinPolicy, setJoinPolicy] = useState<'open' | 'invite'>('open');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={kind === 'community' ? 'Create a community' : 'Create a channel'} onClose={onClose}>
      <form className="stack" onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
          const s = await Api.createSpace({ kind, name: name.trim(), topic: topic.trim() || undefined, visibility, join_policy: visibility === 'private' ? 'invite' : joinPolicy });
          onCreated(s);
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}>
        <fieldset className="choice-row">
          <legend>Kind</legend>
          <label className="choice"><input type="radio" name="kind" value="community" checked={kind === 'community'} onChange={() => setKind('community')} />
            <span><strong>Community</strong><small>A feed of posts: discussions, questions, ideas, polls</small></span></label>
          <label className="choice"><input type="radio" name="kind" value="channel" checked={kind === 'channel'} onChange={() => setKind('channel')} />
            <span><strong>Channel</strong><small>Chat with threads, for a team or a shift</small></span></label>
        </fieldset>
        <label htmlFor="space-name">Name</label>
        <input id="space-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} autoFocus
          placeholder={kind === 'channel' ? 'e.g. ward-7-nights' : 'e.g. Falls Prevention'} />
        <label htmlFor="space-topic">Topic <span className="muted">(optional)</span></label>
        <input id="space-topic" value={topic} onChange={(e) => setTopic(e.target.value)} maxLength={300} />
        <label htmlFor="space-visibility">Who can find it</label>
        <select id="space-visibility" value={visibility} onChange={(e) => setVisibility(e.target.value as 'public' | 'private')}>
          <option value="public">Public: everyone on staff can find and read it</option>
          <option value="private">Private: only people you add</option>
        </select>
        {visibility === 'public' && (
          <>
            <label htmlFor="space-join">Who can join</label>
            <select id="space-join" value={joinPolicy} onChange={(e) => setJoinPolicy(e.target.value as 'open' | 'invite')}>
              <option value="open">Anyone on staff</option>
              <option value="invite">Only people an owner or moderator adds</option>
            </select>
          </>
        )}
        <p className="hint">Do not put patient details in a space's name or topic.</p>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Creating…' : 'Create'}</button>
        </div>
      </form>
    </Dialog>
  );
}
