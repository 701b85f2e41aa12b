CREATE TABLE jobs (
    id bigint PRIMARY KEY,
    name text NOT NULL
);
