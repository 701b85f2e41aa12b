-- name: GetItem :one
SELECT * FROM items WHERE id = $1;

-- name: Broken :one
SELEC name FROM items;
