ALTER TABLE sessions DROP COLUMN lease_until;
