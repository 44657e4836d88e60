// Search snippets mark matches with [[ and ]]. They are split into plain text pieces and
// highlighted pieces; the caller renders each piece as text (inside <mark> when highlighted),
// so nothing in a snippet is ever parsed as HTML.
export interface SnippetPart { text: string; hit: boolean }

export function parseSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let rest = snippet;
  while (rest.length > 0) {
    const open = rest.indexOf('[[');
    if (open < 0) break;
    const close = rest.indexOf(']]', open + 2);
    if (close < 0) break;
    if (open > 0) parts.push({ text: rest.slice(0, open), hit: false });
    parts.push({ text: rest.slice(open + 2, close), hit: true });
    rest = rest.slice(close + 2);
  }
  if (rest.length > 0) parts.push({ text: rest, hit: false });
  return parts.filter((p) => p.text.length > 0);
}
