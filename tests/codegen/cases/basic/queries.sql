-- name: GetUser :one
-- Fetch one user by primary key.
--
-- Deleted users are returned too.
SELECT * FROM users WHERE id = @id;

-- name: ListUsers :many
SELECT * FROM users WHERE deleted_at IS NULL ORDER BY created_at LIMIT @max_rows;

-- name: ListActiveUsers :many
SELECT * FROM active_users ORDER BY email;

-- name: CountUsers :one
SELECT count(*) FROM users;

-- name: ListEmails :many
SELECT email FROM users ORDER BY email;

-- name: GetImage :one
SELECT image FROM users WHERE id = $1;

-- name: CreateUser :one
INSERT INTO users (id, name, email) VALUES (@id, @name, @email)
RETURNING *;

-- name: RenameUser :execrows
UPDATE users SET name = @name, updated_at = now() WHERE id = @id;

-- name: DeleteUser :exec
DELETE FROM users WHERE id = @id;

-- name: SoftDeleteUser :execresult
UPDATE users SET deleted_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: GetSessionByKey :one
SELECT s.id, s.token, s.class, u.id, u.email
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token = @token AND s.expires_at > now();

-- name: ListSessionsByClass :many
SELECT id, class FROM sessions WHERE class = @class;

-- name: AddSession :exec
INSERT INTO sessions (id, token, user_id, class, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::int));

-- name: EchoNumbers :one
SELECT $1::int + 1 AS next, $2::text AS label;

-- name: OddText :one
-- Text with "quotes" and a \ backslash in "double quotes"
SELECT 'a """ b \ c' AS odd, '50%' AS pct;
