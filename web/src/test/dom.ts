// Reading and driving the DOM in component tests the way a person would: by a field's label.
import { act } from 'react';

/** Types `value` into `input` (or a text area) as the browser would (React sees an input event). */
export function type(input: Element | null, value: string) {
  const proto = input instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')!.set!;
  act(() => {
    setter.call(input, value);
    input!.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

/** The input whose <label> reads exactly `text`, or null. */
export const byLabel = (el: HTMLElement, text: string) => {
  const label = [...el.querySelectorAll('label')].find((l) => l.textContent === text);
  return label ? document.getElementById(label.htmlFor) as HTMLInputElement | null : null;
};
