CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, archived boolean NOT NULL DEFAULT false);
