ALTER TABLE sessions ADD COLUMN lease_until timestamptz;
UPDATE sessions s SET lease_until = l.lease_until FROM core_leases l
  WHERE l.id = s.core_id AND s.connected AND s.ended_at IS NULL;
ALTER TABLE sessions DROP COLUMN core_id;
DROP TABLE core_leases;
