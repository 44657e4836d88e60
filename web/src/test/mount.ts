// Renders a React node into a fresh element attached to the document, for tests that read the
// DOM; every mounted element is removed after each test.
import type { ReactNode } from 'react';
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach } from 'vitest';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const mounted: HTMLElement[] = [];
afterEach(() => { for (const el of mounted.splice(0)) el.remove(); });

export function mount(node: ReactNode): { el: HTMLDivElement; root: Root } {
  const el = document.createElement('div');
  document.body.appendChild(el);
  mounted.push(el);
  const root = createRoot(el);
  act(() => root.render(node));
  return { el, root };
}
