import { parseSnippet } from '../lib/snippet';

/** A search snippet with its [[matches]] as <mark>; every piece is rendered as text. */
export default function Snippet({ text }: { text: string }) {
  return (
    <span className="snippet">
      {parseSnippet(text).map((part, i) => (part.hit ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
    </span>
  );
}
