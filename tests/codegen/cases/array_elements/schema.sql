CREATE TABLE labels (
    id bigint PRIMARY KEY,
    -- The schema proves what sqlc cannot see: no NULL element.
    tags text[] NOT NULL CHECK (array_position(tags, NULL) IS NULL),
    scores integer[][]
);
