CREATE TABLE posts (
    id bigint PRIMARY KEY,
    title text NOT NULL,
    views integer NOT NULL DEFAULT 0,
    published_at timestamptz
);
