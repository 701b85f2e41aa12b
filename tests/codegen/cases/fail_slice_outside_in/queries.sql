-- name: GetItems :many
SELECT * FROM items WHERE id = ANY(sqlc.slice(ids));
