-- name: ListPosts :many
-- Posts with at least min_views views, in one of the whitelisted orders.
-- order: newest = published_at DESC NULLS LAST, id DESC
-- order: oldest = published_at ASC NULLS LAST, id ASC
-- order: title = lower(title), id
-- order: most_viewed = views DESC, id DESC
SELECT * FROM posts
WHERE views >= @min_views
ORDER BY published_at DESC NULLS LAST, id DESC
LIMIT @max_rows;

-- name: FirstPost :one
-- order: oldest = id
-- order: newest = id DESC
SELECT id, title FROM posts ORDER BY id DESC LIMIT 1;

-- name: SearchPosts :many
-- More parameters than query_parameter_limit: the order follows the params Struct.
-- order: title = title, id
-- order: most_viewed = views DESC, id
SELECT id FROM posts
WHERE title ILIKE @pattern AND views BETWEEN @low AND @high
ORDER BY title, id;
