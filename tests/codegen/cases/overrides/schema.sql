CREATE DOMAIN email_address AS text CHECK (VALUE LIKE '%@%');
CREATE TYPE money_amount AS (currency char(3), amount numeric(12, 2));

CREATE TABLE people (
    id serial PRIMARY KEY,
    email email_address NOT NULL,
    profile jsonb NOT NULL,
    address json,
    extra jsonb,
    price money_amount,
    note text,
    type text NOT NULL DEFAULT 'person'
);
