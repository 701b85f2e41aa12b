-- name: CreateAuthor :one
INSERT INTO authors (name, bio) VALUES (sqlc.arg(name), @bio) RETURNING id;

-- name: CreateInvoice :one
INSERT INTO billing.invoices (author_id, status, total) VALUES (@author_id, @status, @total)
RETURNING *;

-- name: GetInvoiceWithAuthor :one
-- Inner join: the embedded author is never None.
SELECT sqlc.embed(i), sqlc.embed(a), a.name AS author_name
FROM billing.invoices i
JOIN authors a ON a.id = i.author_id
WHERE i.id = @id;

-- name: ListInvoicesWithOptionalAuthor :many
-- Left join: the embedded author is None when the invoice has none.
SELECT sqlc.embed(i), sqlc.embed(a)
FROM billing.invoices i
LEFT JOIN authors a ON a.id = i.author_id
ORDER BY i.id;

-- name: ListAuthorsByIDs :many
SELECT id, name FROM authors WHERE id IN (sqlc.slice(ids)) ORDER BY name;

-- name: ListAuthorsExcept :many
SELECT name FROM authors WHERE name NOT IN (sqlc.slice('names')) ORDER BY name;

-- name: SearchInvoices :many
SELECT id, status, total FROM billing.invoices
WHERE (sqlc.narg(status)::billing.invoice_status IS NULL OR status = sqlc.narg(status))
  AND total >= @min_total
ORDER BY id;

-- name: CopyEvents :copyfrom
INSERT INTO events (author_id, kind, payload) VALUES ($1, $2, $3);

-- name: CopyTags :copyfrom
INSERT INTO tags (name, weight) VALUES (@name, @weight);

-- name: CountEvents :one
SELECT count(*) AS events, count(payload) AS with_payload FROM events;

-- name: ListTags :many
SELECT * FROM tags ORDER BY weight;
