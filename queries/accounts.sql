-- name: CreateAccount :one
-- Link a provider account (or a 'credential' password account) to a user.
INSERT INTO accounts (
    id, account_id, provider_id, user_id, access_token, refresh_token, id_token,
    access_token_expires_at, refresh_token_expires_at, scope, password
) VALUES (
    @id, @account_id, @provider_id, @user_id, sqlc.narg(access_token),
    sqlc.narg(refresh_token), sqlc.narg(id_token), sqlc.narg(access_token_expires_at),
    sqlc.narg(refresh_token_expires_at), sqlc.narg(scope), sqlc.narg(password)
)
RETURNING *;

-- name: ListAccountsByUser :many
-- A user's linked accounts, oldest first.
SELECT * FROM accounts
WHERE user_id = @user_id
ORDER BY created_at, id;

-- name: GetAccountByProvider :one
-- The account a provider knows by its own id (for 'credential', account_id is the user id).
SELECT * FROM accounts
WHERE provider_id = @provider_id AND account_id = @account_id;

-- name: DeleteAccount :execrows
-- Unlink an account.
DELETE FROM accounts WHERE id = @id;
