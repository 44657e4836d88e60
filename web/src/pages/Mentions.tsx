import { useEffect, useState } from 'react';
import { Api, errorText, type MentionItem } from '../api';
import { preview, shortTime } from '../lib/format';
import { href } from '../lib/route';

export default function MentionsPage() {
  const [items, setItems] = useState<MentionItem[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    Api.mentions().then((p) => { setItems(p.items); setCursor(p.next_cursor); }).catch((e) => setError(errorText(e)));
  }, []);
  return (
    <section className="page">
      <h1 tabIndex={-1}>Mentions</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items && items.length === 0 && <p>Nobody has mentioned you yet. When someone writes @your-username, it shows up here.</p>}
      <ul className="results">
        {items?.map(({ message, space }) => (
          <li key={message.id} className="mention-item">
            <a href={href.space(space.id, message.id)}>
              <strong>{message.author.display_name}</strong> in {space.kind === 'channel' ? `# ${space.name}` : space.kind === 'direct' ? 'a direct message' : space.name}
            </a>
            <span className="muted"> · {shortTime(message.created_at)}</span>
            <p className="excerpt">{preview(message.body, 240)}</p>
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" className="secondary" onClick={async () => {
          try {
            const p = await Api.mentions(cursor);
            setItems((l) => [...(l ?? []), ...p.items]);
            setCursor(p.next_cursor);
          } catch (e) { setError(errorText(e)); }
        }}>Older mentions</button>
      )}
    </section>
  );
}
