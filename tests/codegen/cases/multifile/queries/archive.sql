-- name: ArchiveNotes :execrows
UPDATE notes SET archived = true WHERE id = ANY(@ids::int[]);

-- name: CountArchived :one
SELECT count(*) AS archived FROM notes WHERE archived;
