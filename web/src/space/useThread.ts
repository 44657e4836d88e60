// A thread (a channel message's replies, or a post's comments), loaded once and kept live.
import { useCallback, useEffect, useState } from 'react';
import { Api, ApiError, errorText, type Message } from '../api';
import { applyEvent, applyToOne, isRemoval, upsert } from '../lib/messages';
import { useApp, useFrames } from '../state';

/** `memberId`: the id the signed-in person goes by in the thread's space (memberIdIn). */
export function useThread(root: Message, memberId?: number) {
  const { me } = useApp();
  const [head, setHead] = useState<Message>(root);
  const [items, setItems] = useState<Message[] | null>(null);
  const [error, setError] = useState('');
  const [gone, setGone] = useState(false);

  useEffect(() => {
    let cancelled = false;
    Api.thread(root.id)
      .then((t) => { if (!cancelled) { setHead(t.root); setItems((now) => (now ? t.items.reduce(upsert, now) : t.items)); } })
      .catch((e) => {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 404) setGone(true); else setError(errorText(e));
      });
    return () => { cancelled = true; };
  }, [root.id]);

  useFrames((f) => {
    if (f.type !== 'event' || f.space_id !== root.space_id) return;
    if (isRemoval(f, root.id)) { setGone(true); return; }
    const mine = memberId ?? me.id;
    setHead((h) => applyToOne(h, f, mine));
    setItems((list) => (list ? applyEvent(list, f, mine, root.id) : list));
  });

  const add = useCallback((m: Message) => setItems((list) => upsert(list ?? [], m)), []);
  return { head, items, error, gone, add };
}
