// Signed-in sessions as the profile lists them: a device a person recognises ("Firefox on
// Windows") read from the browser's User-Agent, and when each was last used.
import type { LiveSession } from '../api';
import { sameDay, shortTime, timeOfDay } from './format';

export interface Device { browser: string | null; os: string | null }

// Order matters: Edge, Opera and Samsung Internet also say "Chrome", Chrome says "Safari", and
// Chrome, Firefox and Edge on iOS are Safari underneath, with their own token added.
const BROWSERS: readonly [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|OPiOS)\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/\bChromium\//, 'Chromium'],
  [/\b(?:HeadlessChrome|Chrome|CriOS)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

// Android says "Linux" too, and iPhones and iPads say "like Mac OS X".
const SYSTEMS: readonly [RegExp, string][] = [
  [/\bWindows\b/, 'Windows'],
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

const first = (table: readonly [RegExp, string][], ua: string) => table.find(([pattern]) => pattern.test(ua))?.[1] ?? null;

/** The browser and operating system a User-Agent names; null for a part it does not tell. */
export function parseUserAgent(ua: string): Device {
  return { browser: first(BROWSERS, ua), os: first(SYSTEMS, ua) };
}

/**
 * What to call the device a session is on: "Chrome on Linux", "API client" for a bearer token
 * (a script or an integration, whatever it says it is), the program's own name for a
 * non-browser ("curl"), and "Unknown device" when nothing can be told.
 */
export function describeDevice(session: Pick<LiveSession, 'bearer' | 'user_agent'>): string {
  if (session.bearer) return 'API client';
  const ua = session.user_agent.trim();
  const { browser, os } = parseUserAgent(ua);
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  if (os) return `Web browser on ${os}`;
  const program = /^([A-Za-z][\w.-]*)\//.exec(ua)?.[1];
  return program && program !== 'Mozilla' ? program : 'Unknown device';
}

/** The session in use here first, then the others as the server ordered them (newest first). */
export function currentFirst<T extends Pick<LiveSession, 'current'>>(sessions: readonly T[]): T[] {
  return [...sessions.filter((s) => s.current), ...sessions.filter((s) => !s.current)];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * When a session was last used, in words. The server records use at most once a minute, so
 * anything within two minutes reads as "Just now".
 */
export function lastActiveText(ms: number, now: number): string {
  const age = now - ms;
  if (age < 2 * MINUTE) return 'Just now';
  if (age < HOUR) return `${Math.floor(age / MINUTE)} minutes ago`;
  if (age < 24 * HOUR) {
    const hours = Math.floor(age / HOUR);
    return hours === 1 ? '1 hour ago' : `${hours} hours ago`;
  }
  return shortTime(ms, now);
}

/** When a session began: "Today, 14:05", "Yesterday, 09:30", else "3 Nov, 14:05". */
export function signedInText(ms: number, now: number): string {
  if (sameDay(ms, now)) return `Today, ${timeOfDay(ms)}`;
  if (sameDay(ms, now - 24 * HOUR)) return `Yesterday, ${timeOfDay(ms)}`;
  return shortTime(ms, now);
}

/** The report after ending every other session. */
export function endedText(ended: number): string {
  if (ended === 0) return 'There were no other sessions to end.';
  return ended === 1 ? 'Ended 1 other session. It is signed out.' : `Ended ${ended} other sessions. They are signed out.`;
}
