-- name: GetUser :one
-- Fetch a user by id, including soft-deleted ones.
SELECT * FROM users WHERE id = @id;

-- name: GetUserByEmail :one
-- Fetch a live (not soft-deleted) user by email, case-insensitively.
SELECT * FROM users WHERE lower(email) = lower(@email) AND deleted_at IS NULL;

-- name: CreateUser :one
-- Insert a user; id, name and email are required, the rest have defaults.
INSERT INTO users (id, name, email, email_verified, image)
VALUES (@id, @name, @email, @email_verified, @image)
RETURNING *;

-- name: ListUsers :many
-- Live users, newest first, one page at a time.
SELECT * FROM users
WHERE deleted_at IS NULL
ORDER BY created_at DESC, id
LIMIT @max_rows OFFSET @skip_rows;

-- name: SoftDeleteUser :execrows
-- Mark a user deleted; returns 0 when it was already deleted or does not exist.
UPDATE users SET deleted_at = now(), updated_at = now()
WHERE id = @id AND deleted_at IS NULL;
