-- name: InsertItem :execlastid
INSERT INTO items (name) VALUES ($1);

-- name: DeleteItems :batchexec
DELETE FROM items WHERE id = $1;

-- name: GetItems :batchmany
SELECT * FROM items WHERE id = $1;

-- name: MakeItems :batchone
INSERT INTO items (name) VALUES ($1) RETURNING id;
