import { useState } from 'react';

// A view that reloads on every event can have two loads in flight; their answers may arrive in
// either order, and the older one must not land last (a member who just joined missing from the
// list until the next event). Each call supersedes the ones before it: only the newest call's
// answer, or its failure, is applied.
export function latestOnly() {
  let newest = 0;
  return <T>(request: Promise<T>, apply: (value: T) => void, fail: (error: unknown) => void = () => {}) => {
    const mine = ++newest;
    request.then(
      (value) => { if (mine === newest) apply(value); },
      (error: unknown) => { if (mine === newest) fail(error); },
    );
  };
}

/** latestOnly() kept for the life of a component. */
export function useLatestOnly() {
  const [run] = useState(latestOnly);
  return run;
}
