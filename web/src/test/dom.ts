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

/** Lets answers land: `ms` of timers pass, then queued promises and the effects they cause. */
export const settle = (ms = 0) => act(async () => { await new Promise((r) => setTimeout(r, ms)); for (let i = 0; i < 10; i++) await Promise.resolve(); });

/** The button that reads exactly `text`, or undefined. */
export const button = (el: ParentNode, text: string) => [...el.querySelectorAll('button')].find((b) => b.textContent === text);

/** Submits the first form in `el` as its submit button would, and lets the answers land. */
export async function submit(el: ParentNode) {
  act(() => (el.querySelector('form') as HTMLFormElement).requestSubmit());
  await settle();
}

/** The error a field's aria-describedby points at, or null. */
export const errorOf = (field: HTMLElement) => {
  const ids = (field.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
  return ids.map((id) => document.getElementById(id)).find((n) => n?.classList.contains('error')) ?? null;
};

/** jsdom has no modal dialogs: opening and closing one sets the attribute a browser would. */
export function polyfillDialogs() {
  const proto = HTMLDialogElement.prototype as Partial<HTMLDialogElement>;
  if (proto.showModal) return;
  proto.showModal = function showModal(this: HTMLDialogElement) { this.setAttribute('open', ''); };
  proto.close = function close(this: HTMLDialogElement) { this.removeAttribute('open'); };
}
