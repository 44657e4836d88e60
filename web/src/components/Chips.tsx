// What a picker has chosen, each removable: one chip per item, named `${label}: chosen`.
import Icon from './Icon';

export default function Chips<T extends { id: number }>({ label, items, name, onRemove }: {
  label: string; items: readonly T[]; name: (item: T) => string; onRemove: (item: T) => void;
}) {
  if (items.length === 0) return null;
  return (
    <ul className="chips" aria-label={`${label}: chosen`}>
      {items.map((item) => (
        <li key={item.id} className="chip">{name(item)}
          <button type="button" className="icon-button" aria-label={`Remove ${name(item)}`} onClick={() => onRemove(item)}><Icon name="close" /></button>
        </li>
      ))}
    </ul>
  );
}
