-- Mirrors the project's users table, plus a view and a keyword-named column.
CREATE TABLE users (
    id text NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    email_verified boolean NOT NULL DEFAULT false,
    image text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_unique UNIQUE (email)
);
COMMENT ON TABLE users IS 'People who can sign in.';

CREATE TABLE sessions (
    id text PRIMARY KEY,
    token text NOT NULL UNIQUE,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    class text,
    expires_at timestamptz NOT NULL
);

CREATE VIEW active_users AS
    SELECT id, name, email FROM users WHERE deleted_at IS NULL;
