-- The enum "status" and the table "statuses" both make the class Status.
CREATE TYPE status AS ENUM ('draft', 'live');
CREATE TABLE statuses (
    id bigint PRIMARY KEY,
    value status NOT NULL
);
