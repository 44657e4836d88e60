-- Requests to join a space whose template admits people on request ("joining": "request"): one
-- pending request per person and space, until a moderator or owner approves it (the person
-- becomes a member) or declines it, or its requester withdraws it.
CREATE TABLE join_requests (
  space_id   INTEGER NOT NULL REFERENCES spaces(id),
  user_id    INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (space_id, user_id)
);
CREATE INDEX join_requests_user ON join_requests(user_id, space_id);
