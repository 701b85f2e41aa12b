-- name: RecentEvents :many
-- sqlc cannot type a parameter in an expression of an untyped operator.
SELECT id FROM events WHERE at > now() - @age ORDER BY id;
