import { colourFor, initials } from '../lib/format';

export default function Avatar({ id, name, size = 'md', online }: { id: number; name: string; size?: 'sm' | 'md' | 'lg'; online?: boolean }) {
  return (
    <span className={`avatar avatar-${size}`} style={{ backgroundColor: colourFor(id) }} aria-hidden="true">
      {initials(name)}
      {online && <span className="avatar-online" />}
    </span>
  );
}
