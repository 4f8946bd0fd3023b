-- A session counts as connected only while the core process holding its stream renews the
-- lease, so a killed process leaves no ghost in `who` and its sessions still expire.
ALTER TABLE sessions ADD COLUMN lease_until timestamptz;
