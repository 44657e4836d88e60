-- A custodian's records are their conversations, not only what they wrote. A legal hold that names
-- custodians now covers, besides every message a custodian wrote anywhere, every message of a
-- direct conversation (spaces of kind 'direct', two people or a group) a custodian is part of,
-- whoever wrote it. Messages of communities and channels a custodian merely belongs to are not
-- covered by the custodian: name the space for those. The date range and the spaces, when the hold
-- names them, still narrow what it covers.
--
-- Who is part of a conversation: membership history is not stored (a membership row is the
-- present), so a custodian is part of a direct conversation when they are a member of it now, or,
-- to be safe, when they have written any message in it (a row that outlives a membership lost
-- before direct conversations refused leaving). E-discovery selects by custodian with the same rule
-- (kExportMessageIds in sqlite_tx_retention.cpp), so an export by custodian holds what a hold by
-- that custodian keeps.
--
-- The view stays the one definition of "held": the purge selection, the purge's own check, the
-- trigger that keeps a held message's text when it is deleted (whoever deletes it) and the check
-- that keeps a deleted message's files all read it. The trigger names the view, so recreating the
-- view is all it takes.
DROP VIEW held_messages;
CREATE VIEW held_messages AS
  SELECT m.id AS message_id, h.id AS hold_id
  FROM legal_holds h JOIN messages m
  WHERE h.released_at IS NULL
    AND (h.from_time IS NULL OR m.created_at >= h.from_time)
    AND (h.to_time IS NULL OR m.created_at < h.to_time)
    AND (h.space_ids = '[]' OR m.space_id IN (SELECT value FROM json_each(h.space_ids)))
    AND (h.custodian_ids = '[]'
         OR m.author_id IN (SELECT value FROM json_each(h.custodian_ids))
         OR EXISTS (SELECT 1 FROM spaces s WHERE s.id = m.space_id AND s.kind = 'direct'
                    AND EXISTS (SELECT 1 FROM json_each(h.custodian_ids) c
                                WHERE EXISTS (SELECT 1 FROM memberships p
                                              WHERE p.space_id = m.space_id AND p.user_id = c.value)
                                   OR EXISTS (SELECT 1 FROM messages a
                                              WHERE a.author_id = c.value AND a.space_id = m.space_id))));

-- "Has this custodian written in this conversation" is one probe of this index, per message a
-- purge, a delete or an export looks at; without it, a scan of the conversation each time.
CREATE INDEX messages_author_space ON messages(author_id, space_id);
