// One WebSocket per tab. On every (re)connect it sends the cursors it has — the last sequence
// seen per space — so the server replays exactly what was missed; events at or below a cursor
// are ignored, so nothing is applied twice. Reconnects back off from 0.5 s to 10 s with jitter.
export type Frame =
  | { type: 'event'; space_id: number; seq: number; event: string; data: any }
  | { type: 'user'; event: string; data: any }
  | { type: 'typing'; space_id: number; user_id: number }
  | { type: 'presence'; user_id: number; online: boolean }
  | { type: 'resumed' } | { type: 'pong' } | { type: 'error'; code: string };

export type Status = 'connecting' | 'live' | 'reconnecting';

export class EventStream {
  private ws: WebSocket | null = null;
  private cursors = new Map<number, number>();
  private delay = 500;
  private stopped = false;
  private timer: number | undefined;

  private onFrame: (f: Frame) => void;
  private onStatus: (s: Status) => void;

  constructor(onFrame: (f: Frame) => void, onStatus: (s: Status) => void) {
    this.onFrame = onFrame;
    this.onStatus = onStatus;
  }

  // The app has loaded each space up to `seq`; events after it will be replayed on reconnect.
  track(spaceId: number, seq: number) {
    if ((this.cursors.get(spaceId) ?? -1) < seq) this.cursors.set(spaceId, seq);
  }

  start() { this.stopped = false; this.connect(); }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.ws?.close();
    this.ws = null;
  }

  typing(spaceId: number) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'typing', space_id: spaceId }));
  }

  private connect() {
    this.onStatus(this.delay === 500 ? 'connecting' : 'reconnecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/events`);
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'resume', cursors: Object.fromEntries(this.cursors) }));
    };
    ws.onmessage = (message) => {
      const frame = JSON.parse(message.data) as Frame;
      if (frame.type === 'resumed') {
        this.delay = 500;
        this.onStatus('live');
        return;
      }
      if (frame.type === 'event') {
        const seen = this.cursors.get(frame.space_id);
        if (seen !== undefined && frame.seq <= seen) return;
        this.cursors.set(frame.space_id, frame.seq);
      }
      this.onFrame(frame);
    };
    ws.onclose = (close) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped || close.code === 4001) return;
      this.onStatus('reconnecting');
      const wait = this.delay * (0.8 + Math.random() * 0.4);
      this.delay = Math.min(this.delay * 2, 10_000);
      this.timer = window.setTimeout(() => this.connect(), wait);
    };
  }
}
