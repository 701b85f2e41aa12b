-- name: BadKey :many
-- order: Most-Viewed = views DESC
SELECT id FROM posts ORDER BY views DESC;

-- name: NoDefault :many
-- order: newest = published_at DESC
SELECT id FROM posts ORDER BY id;

-- name: Injected :many
-- order: newest = id; DROP TABLE posts
SELECT id FROM posts ORDER BY id;

-- name: Parameterised :many
-- order: nearest = abs(views - @target)
SELECT id FROM posts ORDER BY id;

-- name: NoOrderBy :many
-- order: newest = id DESC
SELECT id FROM posts;

-- name: NotASelect :exec
-- order: newest = id DESC
DELETE FROM posts WHERE id = @id;

-- name: OrderParam :many
-- order: newest = id DESC
SELECT id FROM posts WHERE title = @sort_key ORDER BY id DESC;
