-- name: CreateVerificationToken :one
-- Store a token for email verification or password reset.
INSERT INTO verification_tokens (id, identifier, value, expires_at)
VALUES (@id, @identifier, @value, @expires_at)
RETURNING *;

-- name: ConsumeVerificationToken :one
-- Use a token once: delete and return it if identifier and value match and it
-- has not expired; none otherwise.
DELETE FROM verification_tokens
WHERE identifier = @identifier AND value = @value AND expires_at > now()
RETURNING *;

-- name: PurgeExpiredVerificationTokens :execrows
-- Delete expired tokens.
DELETE FROM verification_tokens WHERE expires_at <= now();
