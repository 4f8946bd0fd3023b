-- Failed logins slow down further tries per (account, address) instead of locking the
-- account, so a stranger who knows a name cannot lock its owner out.
CREATE TABLE login_failures (
    player_id uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    address text NOT NULL,
    failures integer NOT NULL,
    retry_at timestamptz NOT NULL,
    last_failure_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (player_id, address)
);
CREATE INDEX login_failures_last_failure_at ON login_failures (last_failure_at);
ALTER TABLE players DROP COLUMN failed_logins, DROP COLUMN locked_until;
