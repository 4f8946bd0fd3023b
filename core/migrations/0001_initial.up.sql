-- The first schema: accounts, characters, the world, aliases, sessions and events.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE system_info (
    key text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO system_info (key, value) VALUES ('game_id', gen_random_uuid()::text);

CREATE TABLE players (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL DEFAULT 'player' CHECK (role IN ('player', 'builder', 'admin')),
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX players_username_key ON players (lower(username));

CREATE TABLE locations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX locations_name_trgm ON locations USING gin (name gin_trgm_ops);

-- The starting location every new character appears in.
INSERT INTO locations (id, name, description) VALUES (
    '00000000-0000-0000-0000-000000000001', 'The Nexus',
    'A quiet hub of shifting light. Paths lead everywhere and nowhere yet.');

CREATE TABLE characters (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    player_id uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    name text NOT NULL,
    location_id uuid NOT NULL REFERENCES locations (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX characters_name_key ON characters (lower(name));
CREATE INDEX characters_player_idx ON characters (player_id);
CREATE INDEX characters_location_idx ON characters (location_id);

CREATE TABLE exits (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_location_id uuid NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    to_location_id uuid NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX exits_from_name_key ON exits (from_location_id, lower(name));
CREATE INDEX exits_name_trgm ON exits USING gin (name gin_trgm_ops);

CREATE TABLE exit_aliases (
    exit_id uuid NOT NULL REFERENCES exits (id) ON DELETE CASCADE,
    alias text NOT NULL,
    PRIMARY KEY (exit_id, alias)
);
CREATE INDEX exit_aliases_alias_trgm ON exit_aliases USING gin (alias gin_trgm_ops);

-- Table and column names are fixed by the operations guide's recovery SQL.
CREATE TABLE player_aliases (
    player_id uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    alias text NOT NULL,
    command text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (player_id, alias)
);
CREATE INDEX player_aliases_alias_idx ON player_aliases (alias);

CREATE TABLE system_aliases (
    alias text PRIMARY KEY,
    command text NOT NULL,
    created_by uuid REFERENCES players (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- ULIDs compare as bytes, so ids use the C collation whatever the database's locale.
CREATE TABLE events (
    id text COLLATE "C" PRIMARY KEY CHECK (length(id) = 26),
    stream text NOT NULL,
    type text NOT NULL,
    actor_id uuid,
    actor_name text NOT NULL DEFAULT '',
    payload jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_stream_id_idx ON events (stream, id);

CREATE TABLE sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    player_id uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    character_id uuid NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    resume_token_hash text NOT NULL,
    connected boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_active_at timestamptz NOT NULL DEFAULT now(),
    detached_at timestamptz,
    ended_at timestamptz
);
CREATE INDEX sessions_live_idx ON sessions (character_id) WHERE ended_at IS NULL;

CREATE TABLE login_tokens (
    token_hash text PRIMARY KEY,
    player_id uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);
