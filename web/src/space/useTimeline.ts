// The top-level messages of a space (a chat timeline or a community feed), kept in seq order,
// paged backwards with `before`, and kept live from the event stream.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Api, errorText, type Message, type Space } from '../api';
import { applyEvent, mergePage, upsert } from '../lib/messages';
import { memberIdIn } from '../lib/format';
import type { SpaceEvent } from '../events';
import { useApp, useFrames } from '../state';

export function useTimeline(space: Space, onEvent?: (ev: SpaceEvent) => void) {
  const { me } = useApp();
  const [messages, setMessages] = useState<Message[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState('');
  const messagesRef = useRef(messages);
  const cursorRef = useRef(olderCursor);
  useLayoutEffect(() => { messagesRef.current = messages; cursorRef.current = olderCursor; }, [messages, olderCursor]);

  useEffect(() => {
    let cancelled = false;
    Api.messages(space.id, { limit: 50 })
      .then((page) => {
        if (cancelled) return;
        // Events that arrived while the page loaded are already in the list: merge, do not replace.
        setMessages((list) => mergePage(list, page.items));
        setOlderCursor(page.next_cursor);
        setLoaded(true);
      })
      .catch((e) => { if (!cancelled) setError(errorText(e)); });
    return () => { cancelled = true; };
  }, [space.id]);

  useFrames((f) => {
    if (f.type !== 'event' || f.space_id !== space.id) return;
    setMessages((list) => applyEvent(list, f, memberIdIn(space, me.id), null));
    onEvent?.(f);
  });

  /** Loads one page of older messages; `beforeApply` runs just before they are added. */
  const loadOlder = useCallback(async (beforeApply?: () => void): Promise<boolean> => {
    const cursor = cursorRef.current;
    if (!cursor) return false;
    setLoadingOlder(true);
    try {
      const page = await Api.messages(space.id, { before: cursor, limit: 50 });
      beforeApply?.();
      messagesRef.current = mergePage(messagesRef.current, page.items);
      setMessages((list) => mergePage(list, page.items));
      setOlderCursor(page.next_cursor);
      cursorRef.current = page.next_cursor;
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    } finally {
      setLoadingOlder(false);
    }
  }, [space.id]);

  /** Makes sure a top-level message is loaded (paging back as far as needed). */
  const reveal = useCallback(async (id: number, seq: number): Promise<boolean> => {
    for (let i = 0; i < 40; i++) {
      if (messagesRef.current.some((m) => m.id === id)) return true;
      const oldest = messagesRef.current[0];
      if (!cursorRef.current || (oldest && oldest.seq < seq)) break;
      if (!(await loadOlder())) break;
    }
    return messagesRef.current.some((m) => m.id === id);
  }, [loadOlder]);

  const add = useCallback((m: Message) => setMessages((list) => upsert(list, m)), []);

  return { messages, loaded, olderCursor, loadingOlder, error, loadOlder, reveal, add };
}
