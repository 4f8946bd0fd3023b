-- Every change of an alias row, by core or by hand (the operations guide's recovery DELETE),
-- tells every core replica to re-read that alias: the trigger NOTIFYs, not the application.
CREATE FUNCTION holomush_alias_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'player_aliases' THEN
    IF TG_OP <> 'INSERT' THEN
      PERFORM pg_notify('holomush_aliases', 'player:' || OLD.player_id || ':' || OLD.alias);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      PERFORM pg_notify('holomush_aliases', 'player:' || NEW.player_id || ':' || NEW.alias);
    END IF;
  ELSE
    IF TG_OP <> 'INSERT' THEN
      PERFORM pg_notify('holomush_aliases', 'system::' || OLD.alias);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      PERFORM pg_notify('holomush_aliases', 'system::' || NEW.alias);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

-- TRUNCATE has no rows to name: an empty payload makes every replica reload all aliases.
CREATE FUNCTION holomush_alias_reload() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('holomush_aliases', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER player_aliases_notify AFTER INSERT OR UPDATE OR DELETE ON player_aliases
    FOR EACH ROW EXECUTE FUNCTION holomush_alias_notify();
CREATE TRIGGER system_aliases_notify AFTER INSERT OR UPDATE OR DELETE ON system_aliases
    FOR EACH ROW EXECUTE FUNCTION holomush_alias_notify();
CREATE TRIGGER player_aliases_reload AFTER TRUNCATE ON player_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION holomush_alias_reload();
CREATE TRIGGER system_aliases_reload AFTER TRUNCATE ON system_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION holomush_alias_reload();
