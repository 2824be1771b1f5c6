-- Accounts owned by auth-service. Emails are stored normalised (trimmed, lower-case) by the
-- application; the unique index is on that normalised value.
CREATE TABLE IF NOT EXISTS users (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email               text NOT NULL,
  password_hash       text NOT NULL,
  role                text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  created_at          timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email);
