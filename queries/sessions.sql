-- name: CreateSession :one
-- Start a session; token is what the signed cookie carries.
INSERT INTO sessions (id, token, expires_at, user_id, ip_address, user_agent)
VALUES (@id, @token, @expires_at, @user_id, sqlc.narg(ip_address), sqlc.narg(user_agent))
RETURNING *;

-- name: GetSessionWithUser :one
-- The live session for a token with its user: none when the session has
-- expired or the user is soft-deleted.
SELECT sqlc.embed(sessions), sqlc.embed(users)
FROM sessions
JOIN users ON users.id = sessions.user_id
WHERE sessions.token = @token
  AND sessions.expires_at > now()
  AND users.deleted_at IS NULL;

-- name: DeleteSession :execrows
-- End one session (sign out).
DELETE FROM sessions WHERE token = @token;

-- name: DeleteUserSessions :execrows
-- End every session of a user (sign out everywhere).
DELETE FROM sessions WHERE user_id = @user_id;

-- name: DeleteExpiredSessions :execrows
-- Purge sessions that have expired.
DELETE FROM sessions WHERE expires_at <= now();
