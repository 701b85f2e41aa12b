-- Tables for :one queries proven (or not) to return exactly one row.
CREATE TABLE items (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    score integer,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE counters (
    id bigserial PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now()
);

-- A BEFORE trigger that returns NULL skips the row: INSERT ... RETURNING then
-- returns nothing, which the generated code reports as an error.
CREATE TABLE guarded (
    id bigserial PRIMARY KEY,
    name text NOT NULL
);

CREATE FUNCTION skip_blocked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name = 'blocked' THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER guarded_skip_blocked
    BEFORE INSERT ON guarded
    FOR EACH ROW EXECUTE FUNCTION skip_blocked();

-- A column named like the generated code's local variable.
CREATE TABLE cells (
    id bigserial PRIMARY KEY,
    "row" integer NOT NULL,
    col integer NOT NULL
);
