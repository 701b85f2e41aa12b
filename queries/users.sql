-- name: CreateUser :one
-- Create a user. The email is stored lower-cased, as better-auth does;
-- generate the id with codex_db.new_id().
INSERT INTO users (id, name, email, email_verified, image)
VALUES (@id, @name, lower(@email), coalesce(sqlc.narg(email_verified)::boolean, false), sqlc.narg(image))
RETURNING *;

-- name: GetUser :one
-- A user by id; soft-deleted users are not returned.
SELECT * FROM users
WHERE id = @id AND deleted_at IS NULL;

-- name: GetUserByEmail :one
-- A user by email, ignoring case; soft-deleted users are not returned.
SELECT * FROM users
WHERE lower(email) = lower(@email) AND deleted_at IS NULL;

-- name: UpdateUser :one
-- Change a user's name and/or image; a NULL argument keeps the current value.
UPDATE users
SET name = coalesce(sqlc.narg(name), name),
    image = coalesce(sqlc.narg(image), image)
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: VerifyUserEmail :execrows
-- Mark a user's email address as verified.
UPDATE users SET email_verified = true
WHERE id = @id AND deleted_at IS NULL;

-- name: SoftDeleteUser :execrows
-- Soft-delete a user; a trigger ends the user's sessions in the same transaction.
UPDATE users SET deleted_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: RestoreUser :execrows
-- Undo a soft delete.
UPDATE users SET deleted_at = NULL
WHERE id = @id AND deleted_at IS NOT NULL;

-- name: ListUsers :many
-- Users, oldest first; soft-deleted ones only when include_deleted is true.
SELECT * FROM users
WHERE deleted_at IS NULL OR @include_deleted::boolean
ORDER BY created_at, id
LIMIT @max_rows OFFSET @skip_rows;
