-- name: CreatePerson :one
INSERT INTO people (email, profile, address, note, type) VALUES (@email, @profile, @address, @note, @type)
RETURNING *;

-- name: GetPerson :one
SELECT * FROM people WHERE id = @id;

-- name: GetProfile :one
SELECT profile FROM people WHERE id = @id;

-- name: ListNotes :many
SELECT id, note FROM people ORDER BY id;
