-- name: CopyTags :copyfrom
INSERT INTO tags (name, weight) VALUES (@name, @weight);

-- name: CopyTagsTypes :many
SELECT DISTINCT name FROM tags;
