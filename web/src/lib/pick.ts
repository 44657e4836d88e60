// The list of things picked (people, spaces) with `item` added, or taken out when it is there.
export function toggled<T extends { id: number }>(list: readonly T[], item: T): T[] {
  return list.some((x) => x.id === item.id) ? list.filter((x) => x.id !== item.id) : [...list, item];
}

/** "Ana Lima, ward-7": each id by the name the server gave it, or "#id" for one it could not name
 * (an account or space removed since). */
export function nameList(ids: readonly number[], named: readonly { id: number; name: string }[] | undefined): string {
  const byId = new Map((named ?? []).map((n) => [n.id, n.name]));
  return ids.map((id) => byId.get(id) ?? `#${id}`).join(', ');
}

/** A list of people as nameList takes it. */
export const peopleNames = (people: readonly { id: number; display_name: string }[] | undefined) =>
  (people ?? []).map((p) => ({ id: p.id, name: p.display_name }));
