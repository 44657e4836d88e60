// The list of things picked (people, spaces) with `item` added, or taken out when it is there.
export function toggled<T extends { id: number }>(list: readonly T[], item: T): T[] {
  return list.some((x) => x.id === item.id) ? list.filter((x) => x.id !== item.id) : [...list, item];
}
