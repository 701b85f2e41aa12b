-- name: CreateMediaItem :one
-- Register an upload; it starts in status 'uploading'.
INSERT INTO media_items (creator_id, title, description, media_type, r2_key, file_size_bytes, mime_type)
VALUES (
    @creator_id, @title, sqlc.narg(description), @media_type, @r2_key,
    sqlc.narg(file_size_bytes), sqlc.narg(mime_type)
)
RETURNING *;

-- name: GetMediaItem :one
-- An active media item by id.
SELECT * FROM media_items
WHERE id = @id AND deleted_at IS NULL;

-- name: MarkMediaUploaded :one
-- The upload finished: status 'uploaded', uploaded_at set.
UPDATE media_items
SET status = 'uploaded', uploaded_at = coalesce(sqlc.narg(uploaded_at), now())
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: MarkMediaTranscoding :one
-- Transcoding started.
UPDATE media_items SET status = 'transcoding'
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: MarkMediaReady :one
-- Transcoding finished: record what it produced.
UPDATE media_items
SET status = 'ready',
    duration_seconds = @duration_seconds,
    width = sqlc.narg(width),
    height = sqlc.narg(height),
    hls_master_playlist_key = @hls_master_playlist_key,
    thumbnail_key = sqlc.narg(thumbnail_key),
    uploaded_at = coalesce(uploaded_at, sqlc.narg(uploaded_at), now())
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: MarkMediaFailed :one
-- Processing failed.
UPDATE media_items SET status = 'failed'
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: ListReadyMediaForCreator :many
-- A creator's media that is ready to publish, newest first.
SELECT * FROM media_items
WHERE creator_id = @creator_id AND status = 'ready' AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: SoftDeleteMediaItem :execrows
-- Soft-delete a media item.
UPDATE media_items SET deleted_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: RestoreMediaItem :execrows
-- Undo a soft delete.
UPDATE media_items SET deleted_at = NULL
WHERE id = @id AND deleted_at IS NOT NULL;

-- name: ListCreatorsWithMedia :many
-- Active users among ids, by id, each with their media items (not soft-deleted),
-- newest first (an empty list when they have none).
-- group: media = m
SELECT sqlc.embed(u), sqlc.embed(m)
FROM users u
LEFT JOIN media_items m ON m.creator_id = u.id AND m.deleted_at IS NULL
WHERE u.id = ANY(@ids::text[]) AND u.deleted_at IS NULL
ORDER BY u.id, m.created_at DESC, m.id DESC;
