-- An attachment's content in pieces of 256 KiB (piece 0 first; every file has at least one, an
-- empty file one empty piece), so that a download is read and sent a piece at a time instead of
-- being held whole in memory for as long as a slow client takes to read it.
CREATE TABLE attachment_pieces (
  attachment_id INTEGER NOT NULL REFERENCES attachments(id),
  piece         INTEGER NOT NULL CHECK (piece >= 0),
  bytes         BLOB NOT NULL,
  PRIMARY KEY (attachment_id, piece)
);

WITH RECURSIVE pieces(attachment_id, piece, total) AS (
  SELECT attachment_id, 0, length(content) FROM attachment_contents
  UNION ALL
  SELECT attachment_id, piece + 1, total FROM pieces WHERE (piece + 1) * 262144 < total
)
INSERT INTO attachment_pieces (attachment_id, piece, bytes)
SELECT p.attachment_id, p.piece, coalesce(CAST(substr(c.content, p.piece * 262144 + 1, 262144) AS BLOB), x'')
FROM pieces p JOIN attachment_contents c ON c.attachment_id = p.attachment_id
ORDER BY p.attachment_id, p.piece;

DROP TABLE attachment_contents;
