// The live event stream: one WebSocket per tab.
//
// Every space event carries (space_id, seq). The stream keeps, per space, the last seq it has
// delivered (its cursor). On every (re)connect it sends {"type":"resume","cursors":…} so the server
// replays exactly what was missed; an event at or below a cursor is dropped, so nothing is applied
// twice. Reconnects back off from 0.5 s to 10 s with jitter and reset once the server says
// "resumed". A ping every 25 s detects a dead connection that never closed.
import type { Member, Message, PollOption, Space, UserRef } from './api';
import type { ModerationAction } from './governanceApi';
import type { EmergencyGrant } from './emergencyApi';

export interface ReactionChange { message_id: number; emoji: string; count: number; user_id: number; on: boolean }
export interface VoteChange { message_id: number; vote_count: number; user_id: number; on: boolean }
export interface PollChange { message_id: number; poll_options: PollOption[]; user_id: number; option: number | null }
export interface MessageRemoved { id: number; space_id: number; parent_id: number | null }
/** A moderator hid or removed a message: it leaves every view. */
export interface MessageModerated { id: number; space_id: number; parent_id?: number | null }
export interface MemberChange { user_id: number; role: Member['role']; user: UserRef }
/**
 * A moderation queue changed: a message was reported or held, an appeal came in, or a decision
 * took something off it. Ids only, never content; a decision on an appeal carries its action_id.
 */
export interface QueueChange {
  kind: 'report' | 'held' | 'appeal' | 'decided';
  space_id: number;
  message_id?: number;
  action_id?: number;
}

interface SpaceFrame<E extends string, D> { type: 'event'; space_id: number; seq: number; event: E; data: D }
export type SpaceEvent =
  | SpaceFrame<'message.created' | 'message.edited' | 'message.pinned' | 'answer.accepted', Message>
  // held: only the author and moderators receive it; published: a held message went live.
  | SpaceFrame<'message.held' | 'message.published', Message>
  | SpaceFrame<'message.deleted', MessageRemoved>
  | SpaceFrame<'message.hidden' | 'message.removed', MessageModerated>
  | SpaceFrame<'reaction.changed', ReactionChange>
  | SpaceFrame<'vote.changed', VoteChange>
  | SpaceFrame<'poll.changed', PollChange>
  | SpaceFrame<'member.joined' | 'member.left' | 'member.role', MemberChange>
  | SpaceFrame<'space.updated', Space>;

export type UserEvent =
  | { type: 'user'; event: 'read.updated'; data: { space_id: number; read_seq: number } }
  | { type: 'user'; event: 'mention'; data: { space_id: number; message_id: number; author_id: number } }
  | { type: 'user'; event: 'space.added'; data: Space }
  | { type: 'user'; event: 'space.removed'; data: { id?: number; space_id?: number } }
  // A request to join changed: to the space's moderators and owners, and a declined one to its asker.
  | { type: 'user'; event: 'space.join_request'; data: { space_id: number; user_id: number; change: 'requested' | 'withdrawn' | 'approved' | 'declined' } }
  | { type: 'user'; event: 'moderation.action'; data: ModerationAction }
  // To the space's moderators and owners and to every compliance officer.
  | { type: 'user'; event: 'moderation.queue'; data: QueueChange }
  // Emergency access: started goes to compliance officers; ended (by its holder, by running out,
  // or revoked) to them and to its holder.
  | { type: 'user'; event: 'emergency.started' | 'emergency.ended'; data: EmergencyGrant };

export type Frame =
  | SpaceEvent
  | UserEvent
  | { type: 'typing'; space_id: number; user_id: number }
  | { type: 'presence'; version: number; online: number[]; offline: number[] }
  | { type: 'presence_snapshot'; version: number; user_ids: number[] }
  | { type: 'resumed' }
  | { type: 'pong' }
  | { type: 'error'; code?: string; detail?: string };

export type Status = 'connecting' | 'live' | 'reconnecting';

export interface StreamHandlers {
  onFrame: (frame: Frame) => void;
  onStatus: (status: Status) => void;
  /** The server closed with 4001: the session is over (signed out elsewhere, expired, disabled). */
  onSessionEnded: () => void;
  /** A resume completed after a reconnect (not the first connect). */
  onResynced?: () => void;
}

export const BACKOFF_START_MS = 500;
export const BACKOFF_MAX_MS = 10_000;
const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;

/** Next delay: doubled and capped; the wait itself gets ±20% jitter so tabs do not stampede. */
export function nextBackoff(delay: number): number { return Math.min(delay * 2, BACKOFF_MAX_MS); }
export function withJitter(delay: number, random = Math.random): number { return Math.round(delay * (0.8 + random() * 0.4)); }

type SocketFactory = (url: string) => WebSocket;

export class EventStream {
  private ws: WebSocket | null = null;
  private readonly cursors = new Map<number, number>();
  private delay = BACKOFF_START_MS;
  private stopped = true;
  private everResumed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private status: Status = 'connecting';
  private readonly handlers: StreamHandlers;
  private readonly makeSocket: SocketFactory;
  private readonly url: string;

  constructor(handlers: StreamHandlers, options: { url?: string; socket?: SocketFactory } = {}) {
    this.handlers = handlers;
    this.makeSocket = options.socket ?? ((url) => new WebSocket(url));
    this.url = options.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events`;
  }

  /**
   * Seeds the cursor for a space the app has loaded up to `seq`. Only a space without a cursor is
   * seeded: once events flow, the cursor moves only with delivered events, so a later page load
   * can never make the stream skip events an open view has not applied.
   */
  seed(spaceId: number, seq: number) {
    if (!this.cursors.has(spaceId)) this.cursors.set(spaceId, seq);
  }

  forget(spaceId: number) { this.cursors.delete(spaceId); }

  cursor(spaceId: number): number | undefined { return this.cursors.get(spaceId); }

  get currentStatus(): Status { return this.status; }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.clearHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) ws.close(1000, 'bye');
  }

  /** Reconnects at once (the browser came back online, or the tab became visible). */
  nudge() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.reconnectTimer);
    this.connect();
  }

  typing(spaceId: number) { this.send({ type: 'typing', space_id: spaceId }); }

  private send(obj: unknown) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(obj));
  }

  private setStatus(status: Status) {
    if (this.status === status) return;
    this.status = status;
    this.handlers.onStatus(status);
  }

  private connect() {
    this.setStatus(this.everResumed ? 'reconnecting' : 'connecting');
    let ws: WebSocket;
    try {
      ws = this.makeSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      ws.send(JSON.stringify({ type: 'resume', cursors: Object.fromEntries(this.cursors) }));
      this.startHeartbeat(ws);
    };
    ws.onmessage = (message: MessageEvent) => {
      if (this.ws !== ws) return;
      this.receive(message.data);
    };
    ws.onclose = (close: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearHeartbeat();
      if (this.stopped) return;
      if (close.code === 4001) {
        this.stopped = true;
        this.handlers.onSessionEnded();
        return;
      }
      this.scheduleReconnect();
    };
    ws.onerror = () => { /* a close follows */ };
  }

  /** Handles one text frame; exposed for tests. */
  receive(raw: unknown) {
    let frame: Frame;
    try {
      frame = JSON.parse(String(raw)) as Frame;
    } catch {
      return;
    }
    clearTimeout(this.pongTimer);
    switch (frame.type) {
      case 'pong':
        return;
      case 'resumed': {
        const wasReconnect = this.everResumed;
        this.everResumed = true;
        this.delay = BACKOFF_START_MS;
        this.setStatus('live');
        if (wasReconnect) this.handlers.onResynced?.();
        this.handlers.onFrame(frame);
        return;
      }
      case 'event': {
        const seen = this.cursors.get(frame.space_id);
        if (seen !== undefined && frame.seq <= seen) return; // already applied
        this.cursors.set(frame.space_id, frame.seq);
        this.handlers.onFrame(frame);
        return;
      }
      default:
        this.handlers.onFrame(frame);
    }
  }

  private scheduleReconnect() {
    this.setStatus('reconnecting');
    const wait = withJitter(this.delay);
    this.delay = nextBackoff(this.delay);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => { if (!this.stopped && !this.ws) this.connect(); }, wait);
  }

  private startHeartbeat(ws: WebSocket) {
    this.clearHeartbeat();
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws || ws.readyState !== 1) return;
      ws.send(JSON.stringify({ type: 'ping' }));
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => { if (this.ws === ws) ws.close(4000, 'no pong'); this.dropDead(ws); }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  // A socket that stopped answering may take a long time to report its close: let it go and
  // reconnect without waiting.
  private dropDead(ws: WebSocket) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.clearHeartbeat();
    if (!this.stopped) this.scheduleReconnect();
  }

  private clearHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}
