-- Account listings page by (created_at, id) at the millisecond a cursor carries. Stored at that
-- precision, the column itself is the sort key, so the indexes serve a page without a full sort.
UPDATE users SET created_at = date_trunc('milliseconds', created_at) WHERE created_at <> date_trunc('milliseconds', created_at);
ALTER TABLE users ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', now());
DROP INDEX IF EXISTS users_status_created_idx;
CREATE INDEX IF NOT EXISTS users_status_created_idx ON users (status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS users_created_idx ON users (created_at DESC, id DESC);
