// Interface icons as inline SVG, so they never depend on an emoji font being installed.
const PATHS = {
  lock: 'M7 10V7a5 5 0 0 1 10 0v3h1a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1zm2 0h6V7a3 3 0 0 0-6 0z',
  pin: 'M14.5 2.5l7 7-2 1-3.5 3.5-.5 4.5-2 1.5-3.5-3.5L4 22l-1-1 5.5-6L5 11.5 6.5 9.5l4.5-.5L14.5 5.5z',
  reply: 'M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z',
  smile: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16zm-3.5-9a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zm7 0a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zM12 17.5c2.3 0 4.3-1.4 5.1-3.5H6.9c.8 2.1 2.8 3.5 5.1 3.5z',
  send: 'M3 20.5l18-8.5L3 3.5 3 10l12 2-12 2z',
  menu: 'M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z',
  close: 'M18.3 5.7l-1.4-1.4L12 9.2 7.1 4.3 5.7 5.7 10.6 10.6 5.7 15.5l1.4 1.4L12 12l4.9 4.9 1.4-1.4-4.9-4.9z',
  plus: 'M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z',
  check: 'M9 16.2l-3.5-3.5L4 14.2l5 5 11-11-1.5-1.4z',
  up: 'M12 4l8 9h-5v7H9v-7H4z',
  attach: 'M16.8 7V16A4.8 4.8 0 0 1 7.2 16V6A3.3 3.3 0 0 1 13.8 6V15A1.8 1.8 0 0 1 10.2 15V8A.8 .8 0 0 1 11.8 8V15A.2 .2 0 0 0 12.2 15V6A1.7 1.7 0 0 0 8.8 6V16A3.2 3.2 0 0 0 15.2 16V7A.8 .8 0 0 1 16.8 7z',
} as const;

export type IconName = keyof typeof PATHS;

export default function Icon({ name, size = 16, label }: { name: IconName; size?: number; label?: string }) {
  return (
    <svg className={`icon icon-${name}`} width={size} height={size} viewBox="0 0 24 24" fill="currentColor"
      role={label ? 'img' : undefined} aria-label={label} aria-hidden={label ? undefined : true} focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}
