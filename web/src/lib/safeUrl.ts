// Links in messages keep an href only for http(s) and mailto. Everything else (javascript:,
// data:, vbscript:, relative paths, anything with control characters) is refused.
const SAFE_URL = /^(https?:\/\/|mailto:)/i;

export function safeUrl(url: string): string {
  const trimmed = url.trim();
  // Browsers ignore tabs and newlines inside a scheme ("java\tscript:"); refuse any control character.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return '';
  return SAFE_URL.test(trimmed) ? trimmed : '';
}
