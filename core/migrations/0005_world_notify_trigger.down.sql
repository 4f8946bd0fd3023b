DROP TRIGGER locations_notify ON locations;
DROP TRIGGER exits_notify ON exits;
DROP TRIGGER exit_aliases_notify ON exit_aliases;
DROP TRIGGER locations_forget_all ON locations;
DROP TRIGGER exits_forget_all ON exits;
DROP TRIGGER exit_aliases_forget_all ON exit_aliases;
DROP FUNCTION holomush_world_notify();
DROP FUNCTION holomush_world_forget_all();
