-- Rounds schema, version 11.
--
-- The index that makes a retried post find the original leads with the client id instead of the
-- space. It keeps exactly the uniqueness it had (one message per space, author and client id)
-- and answers the retry's lookup, which names all three, just as well. What changes is where a
-- new entry lands. Led by the space, each post's entry went into its own space's run of the
-- index: once the index outgrew a few pages, every post of a commit dirtied a leaf page of its own,
-- about a quarter of the pages a 1:1 commit wrote. Led by the client id, entries from clients that
-- begin their ids with the time (the web app's UUIDv7, the load generator) arrive in key order and
-- a commit's posts share the last few pages. Ids in any other form stay valid and cost what they
-- did.
DROP INDEX messages_client_id;
CREATE UNIQUE INDEX messages_client_id ON messages(client_id, space_id, author_id) WHERE client_id <> '';
