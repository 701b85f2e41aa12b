-- name: CreatePerson :one
INSERT INTO people (email, profile, address, note, type) VALUES (@email, @profile, @address, @note, @type)
RETURNING *;

-- name: GetPerson :one
SELECT * FROM people WHERE id = @id;

-- name: GetProfile :one
SELECT profile FROM people WHERE id = @id;

-- name: ListNotes :many
SELECT id, note FROM people ORDER BY id;

-- name: CopyPeople :copyfrom
-- A text COPY: email is a domain, whose binary format the plugin does not know.
INSERT INTO people (email, profile, address, note) VALUES (@email, @profile, @address, @note);

-- name: CopyNotes :copyfrom
-- A binary COPY: an overridden jsonb is still jsonb, and note is still a str.
INSERT INTO people (profile, extra, note, type) VALUES (@profile, @extra, @note, @type);
