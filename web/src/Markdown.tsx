// Message bodies are Markdown rendered by react-markdown with raw HTML off: HTML in a message is
// shown as text, never parsed. Links are kept only for http(s) and mailto; anything else
// (javascript:, data:, vbscript:) loses its href.
import ReactMarkdown from 'react-markdown';

const SAFE_URL = /^(https?:|mailto:)/i;

export function safeUrl(url: string): string {
  return SAFE_URL.test(url.trim()) ? url : '';
}

export default function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        skipHtml={false}
        urlTransform={safeUrl}
        components={{
          a: ({ href, children }) =>
            href ? <a href={href} target="_blank" rel="noopener noreferrer">{children}</a> : <span className="inert-link">{children}</span>,
          img: ({ alt }) => <span className="image-placeholder">[image: {alt}]</span>,
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}

// Search snippets mark matches with [[ and ]]; they become <mark> elements, never HTML.
export function Snippet({ text }: { text: string }) {
  const parts = text.split(/(\[\[.*?\]\])/g);
  return (
    <span className="snippet">
      {parts.map((part, i) =>
        part.startsWith('[[') && part.endsWith(']]') ? <mark key={i}>{part.slice(2, -2)}</mark> : <span key={i}>{part}</span>)}
    </span>
  );
}
