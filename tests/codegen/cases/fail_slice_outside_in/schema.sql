CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL, price numeric);
