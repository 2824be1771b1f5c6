-- The authorization version of an account: bumped with every change that must end its sessions
-- (password, role, status, "end every session"). Session creation and refresh in Redis compare
-- against it, so a login that read the old credentials cannot create a session after the change.
ALTER TABLE users ADD COLUMN IF NOT EXISTS auth_version integer NOT NULL DEFAULT 0;
-- A disabled account cannot log in or refresh; its sessions end when it is disabled.
ALTER TABLE users ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled'));
