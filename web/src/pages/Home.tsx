import { useEffect, useState } from 'react';
import { Api, type MentionItem } from '../api';
import { preview, shortTime, spaceTitle, plural } from '../lib/format';
import { href } from '../lib/route';
import { useApp } from '../state';

export default function Home() {
  const { me, spaces, spacesLoaded, openCreateSpace, openNewDirect } = useApp();
  const [mentions, setMentions] = useState<MentionItem[] | null>(null);
  useEffect(() => { Api.mentions().then((p) => setMentions(p.items.slice(0, 5))).catch(() => setMentions([])); }, []);
  const unread = spaces.filter((s) => s.unread_count > 0).sort((a, b) => b.unread_mentions - a.unread_mentions || b.unread_count - a.unread_count);
  const [greeting] = useState(() => {
    const hour = new Date().getHours();
    return hour < 12 ? 'Good morning' : hour < 18 ? 'Good afternoon' : 'Good evening';
  });
  return (
    <section className="page home">
      <h1 tabIndex={-1}>{greeting}, {me.display_name.split(' ')[0]}</h1>
      <div className="cards">
        <section className="card" aria-labelledby="home-unread">
          <h2 id="home-unread">Unread</h2>
          {!spacesLoaded ? <p className="muted">Loading…</p> : unread.length === 0 ? <p>You are all caught up.</p> : (
            <ul className="link-list">
              {unread.map((s) => (
                <li key={s.id}>
                  <a href={href.space(s.id)}>{spaceTitle(s, me.id)}</a>
                  <span className="muted"> {plural(s.unread_count, 'new message')}{s.unread_mentions ? `, ${plural(s.unread_mentions, 'mention')}` : ''}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="home-mentions">
          <h2 id="home-mentions">Recent mentions</h2>
          {mentions === null ? <p className="muted">Loading…</p> : mentions.length === 0 ? <p>Nobody has mentioned you yet.</p> : (
            <ul className="link-list">
              {mentions.map(({ message, space }) => (
                <li key={message.id}>
                  <a href={href.space(space.id, message.id)}>{message.author.display_name} in {space.kind === 'channel' ? `# ${space.name}` : space.name || 'a conversation'}</a>
                  <span className="muted"> · {shortTime(message.created_at)}</span>
                  <p className="excerpt">{preview(message.body, 120)}</p>
                </li>
              ))}
            </ul>
          )}
          <p><a href={href.mentions()}>All mentions</a></p>
        </section>
        <section className="card" aria-labelledby="home-start">
          <h2 id="home-start">Get started</h2>
          <ul className="link-list">
            <li><a href={href.discover()}>Discover communities and channels</a></li>
            <li><button type="button" className="link" onClick={() => openCreateSpace('community')}>Create a community</button></li>
            <li><button type="button" className="link" onClick={() => openCreateSpace('channel')}>Create a channel</button></li>
            <li><button type="button" className="link" onClick={() => openNewDirect()}>Message a colleague</button></li>
            <li><a href={href.people()}>Browse the people directory</a></li>
          </ul>
        </section>
      </div>
      <p className="hint">Rounds is for work conversations. Share patient information only in spaces approved for it.</p>
    </section>
  );
}
