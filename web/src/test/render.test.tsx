// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import Markdown from '../components/Markdown';
import { safeUrl } from '../lib/safeUrl';
import Snippet from '../components/Snippet';
import { parseSnippet } from '../lib/snippet';
import { parseRoute } from '../lib/route';
import { mount } from './mount';


const render = (node: React.ReactNode) => mount(node).el;

describe('Markdown', () => {
  it('shows raw HTML as text and never creates script or image elements', () => {
    const el = render(<Markdown text={'Hi <script>alert(1)</script> <img src=x onerror=alert(2)> **b**'} />);
    expect(el.querySelector('script')).toBeNull();
    expect(el.querySelector('img')).toBeNull();
    expect(el.textContent).toContain('<script>alert(1)</script>');
    expect(el.querySelector('strong')?.textContent).toBe('b');
  });

  it('keeps only http(s) and mailto links, opened safely', () => {
    const el = render(<Markdown text={'[a](javascript:alert(1)) [b](https://example.org) [c](mailto:x@example.org) [d](data:text/html,hi) [e](/relative)'} />);
    const links = [...el.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.org', 'mailto:x@example.org']);
    expect(links.every((a) => a.rel.includes('noopener') && a.rel.includes('noreferrer'))).toBe(true);
    expect(el.querySelectorAll('.inert-link')).toHaveLength(3);
  });

  it('marks mentions, mine differently, but not e-mail addresses or code', () => {
    const el = render(<Markdown text={'@ana and @bo, mail ana@example.org, `@code`'} me="bo" />);
    const mentions = [...el.querySelectorAll('.mention')].map((m) => [m.textContent, m.classList.contains('mention-me')]);
    expect(mentions).toEqual([['@ana', false], ['@bo', true]]);
  });

  it('safeUrl refuses control characters and odd schemes', () => {
    expect(safeUrl('java\tscript:alert(1)')).toBe('');
    expect(safeUrl(' HTTPS://example.org ')).toBe('HTTPS://example.org');
    expect(safeUrl('vbscript:x')).toBe('');
  });
});

describe('search snippets', () => {
  it('splits [[marks]] into highlighted text', () => {
    expect(parseSnippet('a [[b]] c [[d]]')).toEqual([
      { text: 'a ', hit: false }, { text: 'b', hit: true }, { text: ' c ', hit: false }, { text: 'd', hit: true },
    ]);
    expect(parseSnippet('unclosed [[x')).toEqual([{ text: 'unclosed [[x', hit: false }]);
  });

  it('renders marks as <mark> and HTML as text', () => {
    const el = render(<Snippet text={'<b>x</b> [[kumquat]] <img src=x>'} />);
    expect(el.querySelector('mark')?.textContent).toBe('kumquat');
    expect(el.querySelector('b')).toBeNull();
    expect(el.querySelector('img')).toBeNull();
    expect(el.textContent).toBe('<b>x</b> kumquat <img src=x>');
  });
});

describe('routes', () => {
  it('parses the hash', () => {
    expect(parseRoute('#/space/12?m=40')).toEqual({ page: 'space', id: 12, message: 40 });
    expect(parseRoute('#/space/abc')).toEqual({ page: 'not-found' });
    expect(parseRoute('#/search?q=a%20b')).toEqual({ page: 'search', q: 'a b' });
    expect(parseRoute('#/people/3')).toEqual({ page: 'person', id: 3 });
    expect(parseRoute('')).toEqual({ page: 'home' });
  });
});
