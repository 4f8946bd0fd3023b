-- The lease moves from each session to the core process holding it: a process renews one
-- row every few seconds however many sessions it holds (10,000 idle players made every
-- renewal rewrite 10,000 rows). A session counts as connected while it is connected and its
-- process's lease has not lapsed.
CREATE TABLE core_leases (
    id uuid PRIMARY KEY,
    lease_until timestamptz NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE sessions ADD COLUMN core_id uuid;
-- Sessions connected under the old lease count as detached from now: they linger, and resume
-- on the new core or expire.
UPDATE sessions SET connected = false, detached_at = now() WHERE connected AND ended_at IS NULL;
ALTER TABLE sessions DROP COLUMN lease_until;
