// Held and reported messages waiting for a decision, and appeals waiting for an answer. Moderators
// see the spaces they moderate; compliance officers see every space. Both lists refresh when the
// server says a queue they show changed (a report, a held post, an appeal or a decision made
// elsewhere: the `moderation.queue` user event, which officers get for spaces they are not in),
// and the queue when a message is held or leaves review in a space the person is a member of.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { errorText, type Message } from '../../api';
import { Gov, type ModerationAction, type QueueItem } from '../../governanceApi';
import { fullTime, plural, shortTime } from '../../lib/format';
import { ACTION_LABEL, appealBarred, holdReasonLabel } from '../../lib/moderation';
import { listTypes, messagePhiTypes } from '../../lib/phi';
import { href } from '../../lib/route';
import { useApp, useFrames } from '../../state';
import type { QueueChange } from '../../events';
import Markdown from '../../components/Markdown';
import MessageAttachments from '../../components/MessageAttachments';
import { useLatestOnly } from '../../lib/latest';
import { ModerateDialog } from '../../components/ModerationDialogs';

export default function ModerationQueue() {
  const { me, spaces } = useApp();
  const id = useId();
  const moderated = spaces.filter((s) => s.kind !== 'direct' && (s.my_role === 'owner' || s.my_role === 'moderator'));
  // The person's choice; until they choose: every space for compliance officers, else the space
  // they moderate with the oldest message waiting for review (or an appeal they may decide), or
  // the first one when nothing waits
  // (the sidebar's list may still be loading on a direct visit). Undefined while that is not known.
  const [chosen, setChosen] = useState<number | null | undefined>(undefined);
  const waiting = useWaitingSpace(!me.is_compliance, me.id);
  const spaceId = chosen !== undefined ? chosen
    : me.is_compliance ? null
      : waiting === undefined ? undefined
        : (moderated.find((s) => s.id === waiting) ?? moderated[0])?.id ?? null;
  const [items, setItems] = useState<QueueItem[] | null>(null);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const [dialog, setDialog] = useState<Message | null>(null);
  const timer = useRef<number | undefined>(undefined);

  const latest = useLatestOnly();
  const load = useCallback(() => {
    if (spaceId === undefined) return;
    const request: Promise<{ items: QueueItem[] }> =
      !me.is_compliance && spaceId === null ? Promise.resolve({ items: [] }) : Gov.queue(spaceId);
    latest(request, (page) => { setItems(page.items); setError(''); }, (e) => setError(errorText(e)));
  }, [spaceId, me.is_compliance, latest]);

  useEffect(() => { void load(); return () => window.clearTimeout(timer.current); }, [load]);

  // One read for a burst of changes (a moderator gets both the held message and the queue's news).
  const loadSoon = () => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => { void load(); }, 300);
  };

  useFrames((f) => {
    if (spaceId === undefined) return;
    if (f.type === 'user' && f.event === 'moderation.queue') {
      // An appeal coming in changes the appeals below, not the messages.
      if (f.data.kind !== 'appeal' && shows(spaceId, f.data)) loadSoon();
      return;
    }
    if (f.type !== 'event' || (spaceId !== null && f.space_id !== spaceId)) return;
    if (f.event === 'message.held') {
      loadSoon();
    } else if (f.event === 'message.published' || f.event === 'message.hidden' || f.event === 'message.removed' || f.event === 'message.deleted') {
      const gone = f.data.id;
      setItems((list) => list?.filter((x) => x.message.id !== gone) ?? list);
    }
  });

  const decided = (item: QueueItem, a: ModerationAction) => {
    // A warning or a suspension acts on the author, not the post: a held post still waits, and
    // the server says what is left of the item.
    const settles = a.action === 'approve' || a.action === 'hide' || a.action === 'remove';
    if (settles) setItems((list) => list?.filter((x) => x.message.id !== item.message.id) ?? list);
    else void load();
    const waits = !settles && item.message.state === 'held' ? ' The post still waits for review.' : '';
    setDone(`${ACTION_LABEL[a.action] ?? a.action}: ${item.message.author.display_name}'s ${item.message.parent_id ? 'reply' : 'post'} in ${item.space?.name ?? 'its space'}.${waits}`);
  };

  const approve = async (item: QueueItem) => {
    setError('');
    try { decided(item, await Gov.moderate(item.message.id, { action: 'approve', reason: 'Approved by a moderator' })); } catch (e) { setError(errorText(e)); }
  };

  return (
    <div className="moderation-queue">
      <div className="page-head">
        <h2>Waiting for review</h2>
        <div className="row">
          <label htmlFor={`${id}-space`}>Space</label>
          <select id={`${id}-space`} value={spaceId ?? ''} onChange={(e) => setChosen(e.target.value ? Number(e.target.value) : null)}>
            {me.is_compliance && <option value="">All spaces</option>}
            {moderated.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
          <button type="button" className="secondary small" onClick={() => void load()}>Refresh</button>
        </div>
      </div>
      {done && <p className="composer-notice" role="status">{done}</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {items === null && !error && <p className="muted">Loading the queue…</p>}
      {items && items.length === 0 && <p className="empty">Nothing is waiting for review.</p>}
      <ul className="queue">
        {items?.map((item) => {
          const m = item.message;
          const spaceName = item.space?.name ?? `space ${m.space_id}`;
          return (
            <li key={m.id} className="card queue-item" data-message-id={m.id} aria-label={`${m.author.display_name} in ${spaceName}`}>
              <p className="meta">
                <a href={href.space(m.space_id, m.id)}>{spaceName}</a> · {m.author.display_name} ·{' '}
                <time dateTime={new Date(m.created_at).toISOString()} title={fullTime(m.created_at)}>{shortTime(m.created_at)}</time>
                {' '}<span className={`pill ${item.hold_reason === 'phi' || item.hold_reason === 'review' ? 'bad' : 'warn'}`}>{item.hold_reason ? holdReasonLabel(item.hold_reason) : `Reported ${plural(item.reports.length, 'time')}`}</span>
                {messagePhiTypes(m.phi_types).length > 0 && <> <span className="pill bad">PHI: {listTypes(messagePhiTypes(m.phi_types))}</span></>}
              </p>
              {m.title && <h3 className="post-title">{m.title}</h3>}
              {m.body && <Markdown text={m.body} me={me.username} />}
              <MessageAttachments m={m} />
              {item.reports.length > 0 && (
                <details>
                  <summary>{plural(item.reports.length, 'report')}</summary>
                  <ul>{item.reports.map((r) => <li key={r.id}>{r.reason} <span className="muted small">({shortTime(r.created_at)})</span></li>)}</ul>
                </details>
              )}
              <div className="row end">
                <button type="button" className="primary small" onClick={() => void approve(item)} aria-label={`Approve ${m.author.display_name}'s message`}>Approve</button>
                <button type="button" className="secondary small" onClick={() => setDialog(m)}>Other decision…</button>
              </div>
            </li>
          );
        })}
      </ul>
      {spaceId !== undefined && <Appeals spaceId={spaceId} />}
      {dialog && (
        <ModerateDialog m={dialog} initial="hide" onClose={() => setDialog(null)} onDone={(a) => {
          const item = items?.find((x) => x.message.id === dialog.id);
          setDialog(null);
          if (item) decided(item, a);
        }} />
      )}
    </div>
  );
}

/**
 * For a moderator: the space of the oldest message waiting in the queues of the spaces they
 * moderate (the server's queue across them comes oldest first, so one item tells), or else of the
 * latest appeal waiting there that they may decide; null when nothing waits or the lists cannot be
 * read, undefined until the server answers. One queue item and no more: reading the queue of a
 * space with patient information is on the record, and this read is of the space the page opens.
 */
function useWaitingSpace(ask: boolean, userId: number) {
  const [space, setSpace] = useState<number | null | undefined>(undefined);
  useEffect(() => {
    if (!ask) return;
    let live = true;
    const appealed = () => Gov.actions({ pending_appeals: true })
      .then((page) => page.items.find((a) => !appealBarred(a, userId))?.space_id ?? null, () => null);
    Gov.queue(null, 1)
      .then((page) => page.items[0]?.message.space_id ?? null, () => null)
      .then((id) => (id !== null ? id : appealed()))
      .then((id) => { if (live) setSpace(id); });
    return () => { live = false; };
  }, [ask, userId]);
  return space;
}

/** Whether a view of `spaceId` (null: every space the person works) shows the queue that changed. */
function shows(spaceId: number | null, change: QueueChange) {
  return spaceId === null || change.space_id === spaceId;
}

/** Appeals against moderation decisions that nobody has answered yet. */
function Appeals({ spaceId }: { spaceId: number | null }) {
  const { me } = useApp();
  const [items, setItems] = useState<ModerationAction[] | null>(null);
  const [error, setError] = useState('');
  const [reasons, setReasons] = useState<Record<number, string>>({});
  const [changes, setChanges] = useState(0);
  const latest = useLatestOnly();
  useEffect(() => {
    latest(Gov.actions({ space_id: spaceId, pending_appeals: true }), (p) => setItems(p.items), (e) => setError(errorText(e)));
  }, [spaceId, changes, latest]);
  // An appeal came in, or one was decided (the news of a decision on an appeal names its action).
  useFrames((f) => {
    if (f.type === 'user' && f.event === 'moderation.queue' && f.data.action_id !== undefined && shows(spaceId, f.data)) {
      setChanges((n) => n + 1);
    }
  });
  const decide = async (a: ModerationAction, outcome: 'upheld' | 'reversed') => {
    const reason = (reasons[a.id] ?? '').trim();
    if (!reason) { setError('Give a reason for the decision on the appeal.'); return; }
    try {
      await Gov.decide(a.id, outcome, reason);
      setItems((l) => l?.filter((x) => x.id !== a.id) ?? l);
      setError('');
    } catch (e) { setError(errorText(e)); }
  };
  return (
    <section aria-labelledby="appeals-title">
      <h2 id="appeals-title">Appeals</h2>
      {error && <p className="error" role="alert">{error}</p>}
      {items && items.length === 0 && <p className="muted">No appeals are waiting.</p>}
      <ul className="link-list">
        {items?.map((a) => {
          // Not offered to whom the server would refuse it.
          const barred = appealBarred(a, me.id);
          return (
            <li key={a.id} className="card">
              <p className="meta">{ACTION_LABEL[a.action] ?? a.action} on {shortTime(a.created_at)}: {a.reason}</p>
              <p><strong>Appeal:</strong> {a.appeal?.text}</p>
              {barred ? <p className="muted">{barred}</p> : (
                <>
                  <label htmlFor={`appeal-${a.id}`}>Reason for your decision</label>
                  <input id={`appeal-${a.id}`} value={reasons[a.id] ?? ''} onChange={(e) => setReasons((r) => ({ ...r, [a.id]: e.target.value }))} />
                  <div className="row end">
                    <button type="button" className="secondary small" onClick={() => void decide(a, 'upheld')}>Uphold</button>
                    <button type="button" className="primary small" onClick={() => void decide(a, 'reversed')}>Reverse</button>
                  </div>
                </>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
