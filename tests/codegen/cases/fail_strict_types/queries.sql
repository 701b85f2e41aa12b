-- name: GetEmail :one
SELECT email FROM items WHERE id = $1;
