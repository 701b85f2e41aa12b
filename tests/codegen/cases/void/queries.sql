-- name: Lock :one
-- Take the advisory lock; returns nothing (void).
SELECT pg_advisory_lock(@key::bigint);

-- name: LockEach :many
SELECT pg_advisory_lock(id) FROM jobs ORDER BY id;

-- name: LockExec :exec
SELECT pg_advisory_lock(@key::bigint);

-- name: LockRows :execrows
SELECT pg_advisory_lock(id) FROM jobs;

-- name: LockResult :execresult
SELECT pg_advisory_lock(@key::bigint);

-- name: LockJob :one
SELECT id, name, pg_advisory_lock(id) AS locked FROM jobs WHERE id = @id;

-- name: LockJobs :many
SELECT id, pg_advisory_lock(id) AS locked FROM jobs ORDER BY id;

-- name: UnlockAll :one
SELECT pg_advisory_unlock_all();

-- name: AddJob :exec
INSERT INTO jobs (id, name) VALUES (@id, @name);
