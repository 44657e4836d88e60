import type { Space } from '../api';

// The spaces list is kept current from two sources: copies fetched from the API, and the event
// stream applied on top of them. A fetched copy is what the server read when it answered; one
// that arrives after events it does not include must not undo them (a member count set back, an
// unread count lost, with no later event to repair it). A space's last_seq says how far its copy
// has seen: the copy that has seen further wins.
export function newerSpace(live: Space | undefined, fetched: Space): Space {
  if (!live) return fetched;
  return live.last_seq > fetched.last_seq ? live : { ...live, ...fetched };
}

// The fetched list decides which spaces there are; each keeps whichever copy has seen further.
export function mergeFetchedSpaces(current: readonly Space[], fetched: readonly Space[]): Space[] {
  const byId = new Map(current.map((s) => [s.id, s]));
  return fetched.map((s) => newerSpace(byId.get(s.id), s));
}

// `space` added to the list, or merged into the copy already there.
export function upsertSpace(list: readonly Space[], space: Space): Space[] {
  return list.some((x) => x.id === space.id)
    ? list.map((x) => (x.id === space.id ? newerSpace(x, space) : x))
    : [...list, space];
}
