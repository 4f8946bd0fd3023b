DROP TRIGGER player_aliases_notify ON player_aliases;
DROP TRIGGER system_aliases_notify ON system_aliases;
DROP TRIGGER player_aliases_reload ON player_aliases;
DROP TRIGGER system_aliases_reload ON system_aliases;
DROP FUNCTION holomush_alias_notify();
DROP FUNCTION holomush_alias_reload();
