-- name: GetLabel :one
SELECT * FROM labels WHERE id = @id;

-- name: Tags :one
SELECT tags FROM labels WHERE id = @id;

-- name: SetTags :execrows
UPDATE labels SET tags = @tags WHERE id = @id;
