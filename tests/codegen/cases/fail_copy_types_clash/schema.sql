CREATE TABLE tags (
    name text NOT NULL,
    weight integer NOT NULL
);
