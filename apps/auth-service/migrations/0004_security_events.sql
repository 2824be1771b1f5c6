-- The audit trail of auth-service: one row per security event, appended, never updated. Rows hold
-- no password, token or full IP address: `network` is a /24 (IPv4) or /48 (IPv6) display form.
CREATE TABLE IF NOT EXISTS security_events (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL,
  type       text NOT NULL,
  account_id uuid,
  actor_id   uuid,
  network    text,
  device     text,
  details    jsonb NOT NULL DEFAULT '{}'
);
-- An account's events newest first (admin view, /me/activity), and retention by age.
CREATE INDEX IF NOT EXISTS security_events_account_idx ON security_events (account_id, id DESC) WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS security_events_at_idx ON security_events (at);

CREATE OR REPLACE FUNCTION security_events_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'security_events is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS security_events_no_update ON security_events;
CREATE TRIGGER security_events_no_update BEFORE UPDATE ON security_events
  FOR EACH ROW EXECUTE FUNCTION security_events_append_only();

-- Accounts whose lockout started and has not been lifted: lets admins list locked accounts without
-- scanning Redis. One row per account (bounded by the number of accounts); the live lock state in
-- Redis decides, a row whose lock has ended is dropped when it is read.
CREATE TABLE IF NOT EXISTS account_locks (
  account_id   uuid PRIMARY KEY,
  locked_at    timestamptz NOT NULL,
  locked_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS account_locks_locked_at_idx ON account_locks (locked_at DESC, account_id);

ALTER TABLE users ADD COLUMN IF NOT EXISTS last_login_at timestamptz;
-- Admin listings: newest accounts first, by status.
CREATE INDEX IF NOT EXISTS users_status_created_idx ON users (status, created_at DESC, id);
