-- name: GetItem :one
SELECT * FROM items WHERE id = $1;
