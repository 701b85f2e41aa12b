-- name: ListStatuses :many
SELECT * FROM statuses;
