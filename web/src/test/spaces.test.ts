import { describe, expect, it } from 'vitest';
import type { Space } from '../api';
import { mergeFetchedSpaces, newerSpace, upsertSpace } from '../lib/spaces';

function space(id: number, last_seq: number, extra: Partial<Space> = {}): Space {
  return {
    id, kind: 'community', name: `s${id}`, topic: '', visibility: 'public', join_policy: 'open', archived: false,
    created_by: 1, created_at: 0, last_seq, member_count: 1, my_role: 'owner', read_seq: 0, unread_count: 0,
    unread_mentions: 0, ...extra,
  };
}

describe('the spaces list', () => {
  it('a fetched copy older than the events already applied does not undo them', () => {
    // Read by the server before a colleague joined, answered after the join's event was applied.
    const live = [space(7, 3, { member_count: 2, unread_count: 1 })];
    const merged = mergeFetchedSpaces(live, [space(7, 2, { member_count: 1 })]);
    expect(merged[0]!.member_count).toBe(2);
    expect(merged[0]!.unread_count).toBe(1);
    expect(merged[0]!.last_seq).toBe(3);
  });

  it('a fetched copy as new as the live one, or newer, replaces it', () => {
    const live = [space(7, 3, { member_count: 2, read_seq: 1 })];
    expect(mergeFetchedSpaces(live, [space(7, 3, { member_count: 2, read_seq: 3 })])[0]!.read_seq).toBe(3);
    expect(mergeFetchedSpaces(live, [space(7, 5, { member_count: 4 })])[0]!.member_count).toBe(4);
  });

  it('the fetched list decides which spaces there are', () => {
    const merged = mergeFetchedSpaces([space(1, 1), space(2, 9)], [space(2, 4), space(3, 1)]);
    expect(merged.map((s) => [s.id, s.last_seq])).toEqual([[2, 9], [3, 1]]);
  });

  it('a space added or announced again merges into its copy the same way', () => {
    const list = [space(7, 3, { member_count: 2 })];
    expect(upsertSpace(list, space(7, 2, { member_count: 1 }))[0]!.member_count).toBe(2);
    expect(upsertSpace(list, space(8, 1)).map((s) => s.id)).toEqual([7, 8]);
    // Fields only the live copy has (a detail view's members) stay when the fetched one wins.
    const detailed = space(7, 3, { members: [{ id: 2, username: 'bo', display_name: 'Bo' }] });
    expect(newerSpace(detailed, space(7, 4)).members).toHaveLength(1);
  });
});
