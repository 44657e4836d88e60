// Things kept in memory for the length of a session (drafts, a name cache) register here, and
// are wiped when the session ends, so the next person at this screen sees none of it.
const wipers = new Set<() => void>();

export function onWipe(wipe: () => void) { wipers.add(wipe); }
export function wipeSessionMemory() { for (const wipe of wipers) wipe(); }
