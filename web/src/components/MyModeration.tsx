// Moderators' decisions on my posts, with the reason given, and one appeal per decision.
import { useEffect, useState } from 'react';
import { ApiError, errorText } from '../api';
import { Gov, type ModerationAction } from '../governanceApi';
import { fullTime } from '../lib/format';
import { ACTION_LABEL } from '../lib/moderation';
import { href } from '../lib/route';
import { useFrames } from '../state';

export default function MyModeration() {
  const [items, setItems] = useState<ModerationAction[] | null>(null);
  const [error, setError] = useState('');
  const [appealing, setAppealing] = useState<number | null>(null);
  const [text, setText] = useState('');
  useEffect(() => {
    // A server without moderation answers 404: there is nothing to show then.
    Gov.myActions().then((p) => setItems(p.items)).catch((e) => { if (!(e instanceof ApiError && e.status === 404)) setError(errorText(e)); });
  }, []);
  // A new decision, or the answer to an appeal, shows as it is made.
  useFrames((f) => {
    if (f.type !== 'user' || f.event !== 'moderation.action') return;
    const a = f.data;
    setItems((list) => (list ? (list.some((x) => x.id === a.id) ? list.map((x) => (x.id === a.id ? a : x)) : [a, ...list]) : list));
  });
  // Approvals need no answer; show the decisions an author may want to contest.
  const shown = items?.filter((a) => a.action !== 'approve') ?? [];
  if (!error && shown.length === 0) return null;
  return (
    <section className="card" aria-labelledby="my-moderation">
      <h2 id="my-moderation">Moderation of your posts</h2>
      {error && <p className="error" role="alert">{error}</p>}
      <ul className="link-list">
        {shown.map((a) => (
          <li key={a.id}>
            <p>
              <strong>{ACTION_LABEL[a.action] ?? a.action}</strong> · {fullTime(a.created_at)}
              {a.message_id ? <> · <a href={href.space(a.space_id, a.message_id)}>the post</a></> : null}
            </p>
            <p className="muted">{a.reason}</p>
            {a.appeal
              ? <p>Your appeal: {a.appeal.text} — {a.appeal.outcome ? `${a.appeal.outcome}${a.appeal.reason ? `: ${a.appeal.reason}` : ''}` : 'waiting for a decision'}</p>
              : appealing === a.id
                ? (
                  <form onSubmit={async (e) => {
                    e.preventDefault();
                    if (!text.trim()) return;
                    try {
                      const updated = await Gov.appeal(a.id, text.trim());
                      setItems((l) => l?.map((x) => (x.id === a.id ? updated : x)) ?? l);
                      setAppealing(null);
                      setText('');
                    } catch (err) { setError(errorText(err)); }
                  }}>
                    <label htmlFor={`appeal-text-${a.id}`}>Why should this be reconsidered?</label>
                    <textarea id={`appeal-text-${a.id}`} rows={3} value={text} maxLength={1000} onChange={(e) => setText(e.target.value)} autoFocus />
                    <div className="row"><button type="submit" className="primary small">Send appeal</button><button type="button" className="secondary small" onClick={() => setAppealing(null)}>Cancel</button></div>
                  </form>
                )
                : <button type="button" className="secondary small" onClick={() => { setAppealing(a.id); setText(''); }}>Appeal</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}
