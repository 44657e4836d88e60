import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BACKOFF_MAX_MS, EventStream, nextBackoff, withJitter, type Frame, type Status } from '../events';

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((c: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  url: string;
  constructor(url: string) { this.url = url; FakeSocket.all.push(this); }
  send(text: string) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; }
  open() { this.readyState = 1; this.onopen?.(); }
  receive(obj: unknown) { this.onmessage?.({ data: JSON.stringify(obj) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose?.({ code }); }
}

function setup() {
  const frames: Frame[] = [];
  const statuses: Status[] = [];
  const ended = vi.fn();
  const resynced = vi.fn();
  const stream = new EventStream(
    { onFrame: (f) => frames.push(f), onStatus: (s) => statuses.push(s), onSessionEnded: ended, onResynced: resynced },
    { url: 'ws://test/api/v1/events', socket: (url) => new FakeSocket(url) as unknown as WebSocket },
  );
  return { stream, frames, statuses, ended, resynced };
}
const event = (space_id: number, seq: number) => ({ type: 'event', space_id, seq, event: 'message.created', data: {} });

describe('event stream', () => {
  beforeEach(() => { FakeSocket.all = []; vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('backs off from half a second to ten with jitter', () => {
    let d = 500;
    const seen = [d];
    while (d < BACKOFF_MAX_MS) { d = nextBackoff(d); seen.push(d); }
    expect(seen).toEqual([500, 1000, 2000, 4000, 8000, 10000]);
    expect(withJitter(1000, () => 0)).toBe(800);
    expect(withJitter(1000, () => 1)).toBe(1200);
  });

  it('resumes from the seeded cursors and drops events it already has', () => {
    const { stream, frames, statuses } = setup();
    stream.seed(3, 10);
    stream.seed(3, 99); // a later seed never moves an existing cursor
    stream.start();
    const ws = FakeSocket.all[0]!;
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'resume', cursors: { 3: 10 } });
    ws.receive(event(3, 10));
    ws.receive(event(3, 11));
    ws.receive(event(3, 11));
    ws.receive({ type: 'resumed' });
    ws.receive(event(4, 1));
    expect(frames.filter((f) => f.type === 'event').map((f) => (f as { seq: number }).seq)).toEqual([11, 1]);
    expect(statuses.at(-1)).toBe('live');
    expect(stream.cursor(3)).toBe(11);
  });

  it('reconnects after a drop and resumes from what it delivered', () => {
    const { stream, statuses, resynced } = setup();
    stream.seed(3, 10);
    stream.start();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.receive({ type: 'resumed' });
    FakeSocket.all[0]!.receive(event(3, 12));
    FakeSocket.all[0]!.drop(1001);
    expect(statuses.at(-1)).toBe('reconnecting');
    vi.advanceTimersByTime(700);
    expect(FakeSocket.all).toHaveLength(2);
    const second = FakeSocket.all[1]!;
    second.open();
    expect(second.sent[0]).toEqual({ type: 'resume', cursors: { 3: 12 } });
    second.receive({ type: 'resumed' });
    expect(resynced).toHaveBeenCalledTimes(1);
    expect(statuses.at(-1)).toBe('live');
  });

  it('stops for good when the session ends (4001)', () => {
    const { stream, ended } = setup();
    stream.start();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.drop(4001);
    vi.advanceTimersByTime(60_000);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('a silent connection is replaced after a missed pong', () => {
    const { stream } = setup();
    stream.start();
    FakeSocket.all[0]!.open();
    vi.advanceTimersByTime(25_000);
    expect(FakeSocket.all[0]!.sent.at(-1)).toEqual({ type: 'ping' });
    vi.advanceTimersByTime(10_000 + 1000);
    expect(FakeSocket.all.length).toBe(2);
  });
});
