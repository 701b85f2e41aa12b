-- name: GetNote :one
SELECT * FROM notes WHERE id = @id;

-- name: List :many
-- A query whose function name would shadow the builtin list.
SELECT * FROM notes ORDER BY id;
