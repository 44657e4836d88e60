// What every screen of a signed-in session shares: who I am, my spaces with their unread counts,
// who is online, the one event stream, and ways to tell the person something (live region, toasts).
import { createContext, useContext, useEffect, useRef } from 'react';
import type { Space, User } from './api';
import type { EventStream, Frame, Status } from './events';

export type Listener = (frame: Frame) => void;

/** alert: something the person must not miss (an officer told of emergency access). */
export interface Toast { id: number; text: string; href?: string; kind?: 'info' | 'error' | 'alert' }

export interface AppContextValue {
  me: User;
  setMe: (u: User) => void;
  spaces: Space[];
  spacesLoaded: boolean;
  reloadSpaces: () => Promise<void>;
  /** Puts a space into the sidebar at once (after create, join or starting a conversation). */
  addSpace: (s: Space) => void;
  online: ReadonlySet<number>;
  status: Status;
  stream: EventStream;
  subscribe: (l: Listener) => () => void;
  /** Read out by screen readers (polite). */
  announce: (text: string) => void;
  toast: (t: Omit<Toast, 'id'>) => void;
  /** The open space reports the newest seq the person has seen, so the sidebar clears at once. */
  markSeen: (spaceId: number, seq: number) => void;
  openCreateSpace: (kind: 'community' | 'channel') => void;
  openNewDirect: (preselect?: User[]) => void;
  /** Whether this session administers now: an administrator's account acts as staff until it
   *  takes administration up with the password again, and then for a while (`adminUntil`, the
   *  server's time of its end). Always false for anyone else. */
  administering: boolean;
  adminUntil: number;
  /** Asks for the password (and code) that take administration up. */
  openElevate: () => void;
  endAdministration: () => Promise<void>;
}

export const AppContext = createContext<AppContextValue | null>(null);
/** `administering` alone, for components kept apart from the app context's frequent changes
 *  (each message of a space): it changes only when administration is taken up or ends. */
export const AdministeringContext = createContext(false);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside a signed-in session');
  return ctx;
}

/** Calls `handler` for every frame while the component is mounted; the latest handler always runs. */
export function useFrames(handler: Listener) {
  const { subscribe } = useApp();
  const ref = useRef(handler);
  useEffect(() => { ref.current = handler; });
  useEffect(() => subscribe((f) => ref.current(f)), [subscribe]);
}
