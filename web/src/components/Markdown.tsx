// Message bodies are Markdown rendered by react-markdown (GitHub flavour) WITHOUT rehype-raw: any
// HTML in a message is shown as text, never parsed. Links keep an href only for http(s) and
// mailto; anything else (javascript:, data:, vbscript:, relative) is rendered as plain text.
// Images are never fetched (they would leak who read a message); their alt text is shown.
// @mentions are marked up so the reader sees who was called.
import { memo } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { safeUrl } from '../lib/safeUrl';

// --- a tiny remark plugin: "@name" in text becomes <span class="mention">@name</span> ---------
interface MdNode { type: string; value?: string; children?: MdNode[]; data?: Record<string, unknown> }
const MENTION = /(^|[^A-Za-z0-9._\-@])@([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)/g;

function splitMentions(value: string, me?: string): MdNode[] | null {
  const out: MdNode[] = [];
  let last = 0;
  MENTION.lastIndex = 0;
  for (let m = MENTION.exec(value); m; m = MENTION.exec(value)) {
    const start = m.index + m[1]!.length;
    if (start > last) out.push({ type: 'text', value: value.slice(last, start) });
    const name = m[2]!;
    const self = me !== undefined && name.toLowerCase() === me.toLowerCase();
    out.push({
      type: 'mention',
      data: { hName: 'span', hProperties: { className: self ? ['mention', 'mention-me'] : ['mention'] } },
      children: [{ type: 'text', value: `@${name}` }],
    });
    last = start + name.length + 1;
  }
  if (out.length === 0) return null;
  if (last < value.length) out.push({ type: 'text', value: value.slice(last) });
  return out;
}

function remarkMentions(this: unknown, options?: { me?: string }) {
  const walk = (node: MdNode) => {
    if (!node.children || node.type === 'link' || node.type === 'inlineCode' || node.type === 'code') return;
    const next: MdNode[] = [];
    for (const child of node.children) {
      if (child.type === 'text' && child.value) {
        const parts = splitMentions(child.value, options?.me);
        if (parts) { next.push(...parts); continue; }
      }
      walk(child);
      next.push(child);
    }
    node.children = next;
  };
  return (tree: MdNode) => { walk(tree); };
}

const components: Components = {
  a: ({ href, children }) =>
    href ? <a href={href} target="_blank" rel="noopener noreferrer nofollow">{children}</a>
      : <span className="inert-link" title="Link removed: only web and e-mail links are allowed">{children}</span>,
  img: ({ alt }) => <span className="image-placeholder">[image{alt ? `: ${alt}` : ''}]</span>,
  // Headings inside a message must not compete with the page's own outline.
  h1: ({ children }) => <p className="md-heading">{children}</p>,
  h2: ({ children }) => <p className="md-heading">{children}</p>,
  h3: ({ children }) => <p className="md-heading">{children}</p>,
  h4: ({ children }) => <p className="md-heading">{children}</p>,
  h5: ({ children }) => <p className="md-heading">{children}</p>,
  h6: ({ children }) => <p className="md-heading">{children}</p>,
  input: ({ checked, type }) => (type === 'checkbox' ? <input type="checkbox" checked={!!checked} disabled aria-label={checked ? 'done' : 'not done'} /> : null),
};

function Markdown({ text, me }: { text: string; me?: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm, [remarkMentions, { me }]]}
        urlTransform={safeUrl}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}

export default memo(Markdown);
