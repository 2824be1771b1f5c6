-- Profile data owned by profile-service, keyed by the user id from the access token (no foreign
-- key: services own their tables and may live in separate databases).
CREATE TABLE IF NOT EXISTS profiles (
  user_id      uuid PRIMARY KEY,
  display_name text,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
