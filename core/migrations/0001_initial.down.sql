DROP TABLE IF EXISTS login_tokens, sessions, events, system_aliases, player_aliases,
    exit_aliases, exits, characters, locations, players, system_info;
