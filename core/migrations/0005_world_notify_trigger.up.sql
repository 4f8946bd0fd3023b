-- Every change to a location, an exit or an exit alias, by core or by hand, tells every core
-- replica which location's place (its row and its exits) to forget from its world cache.
CREATE FUNCTION holomush_world_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed uuid;
BEGIN
  IF TG_TABLE_NAME = 'locations' THEN
    changed := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
  ELSIF TG_TABLE_NAME = 'exits' THEN
    IF TG_OP = 'UPDATE' AND OLD.from_location_id <> NEW.from_location_id THEN
      PERFORM pg_notify('holomush_world', OLD.from_location_id::text);
    END IF;
    changed := CASE WHEN TG_OP = 'DELETE' THEN OLD.from_location_id ELSE NEW.from_location_id END;
  ELSE
    -- An alias names its exit; the place is the exit's location. When the exit itself is
    -- being deleted, its own trigger has already said so.
    SELECT from_location_id INTO changed FROM exits
      WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.exit_id ELSE NEW.exit_id END;
    IF TG_OP = 'UPDATE' AND OLD.exit_id <> NEW.exit_id THEN
      PERFORM pg_notify('holomush_world', from_location_id::text) FROM exits WHERE id = OLD.exit_id;
    END IF;
  END IF;
  IF changed IS NOT NULL THEN
    PERFORM pg_notify('holomush_world', changed::text);
  END IF;
  RETURN NULL;
END
$$;

-- TRUNCATE has no rows to name: an empty payload makes every replica forget every place.
CREATE FUNCTION holomush_world_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('holomush_world', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER locations_notify AFTER INSERT OR UPDATE OR DELETE ON locations
    FOR EACH ROW EXECUTE FUNCTION holomush_world_notify();
CREATE TRIGGER exits_notify AFTER INSERT OR UPDATE OR DELETE ON exits
    FOR EACH ROW EXECUTE FUNCTION holomush_world_notify();
CREATE TRIGGER exit_aliases_notify AFTER INSERT OR UPDATE OR DELETE ON exit_aliases
    FOR EACH ROW EXECUTE FUNCTION holomush_world_notify();
CREATE TRIGGER locations_forget_all AFTER TRUNCATE ON locations
    FOR EACH STATEMENT EXECUTE FUNCTION holomush_world_forget_all();
CREATE TRIGGER exits_forget_all AFTER TRUNCATE ON exits
    FOR EACH STATEMENT EXECUTE FUNCTION holomush_world_forget_all();
CREATE TRIGGER exit_aliases_forget_all AFTER TRUNCATE ON exit_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION holomush_world_forget_all();
