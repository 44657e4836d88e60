import { useCallback, useEffect, useState } from 'react';
import { Api, errorText, type Message, type Space } from '../api';
import { preview, shortTime } from '../lib/format';
import { attachmentNames } from '../lib/attachments';
import { href } from '../lib/route';
import { useFrames } from '../state';
import Icon from '../components/Icon';
import { useLatestOnly } from '../lib/latest';

export default function PinsPanel({ space, onClose }: { space: Space; onClose: () => void }) {
  const [pins, setPins] = useState<Message[] | null>(null);
  const [error, setError] = useState('');
  const latest = useLatestOnly();
  const load = useCallback(() => { latest(Api.pins(space.id), (r) => setPins(r.items), (e) => setError(errorText(e))); }, [space.id, latest]);
  useEffect(load, [load]);
  useFrames((f) => {
    if (f.type === 'event' && f.space_id === space.id && (f.event === 'message.pinned' || f.event === 'message.deleted' || f.event === 'message.edited')) load();
  });
  return (
    <aside className="side-panel" aria-labelledby="pins-title">
      <header className="panel-head">
        <h2 id="pins-title" tabIndex={-1}>Pinned</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close pinned"><Icon name="close" /></button>
      </header>
      <div className="panel-body">
        {error && <p className="error" role="alert">{error}</p>}
        {pins && pins.length === 0 && <p className="muted">Nothing is pinned. Moderators and owners can pin important messages.</p>}
        <ul className="pin-list">
          {pins?.map((m) => (
            <li key={m.id}>
              <a href={href.space(space.id, m.id)}>{m.title || preview(m.body, 90) || attachmentNames(m) || 'Poll'}</a>
              <span className="muted small">{m.author.display_name} · {shortTime(m.created_at)}</span>
            </li>
          ))}
        </ul>
      </div>
    </aside>
  );
}
