-- Rollback of 0001.auth: one statement per forward statement, in reverse order.

DROP INDEX idx_verification_tokens_identifier;
DROP TABLE verification_tokens;
DROP INDEX idx_sessions_user_id;
DROP TABLE sessions;
DROP INDEX idx_accounts_provider_account;
DROP INDEX idx_accounts_user_id;
DROP TABLE accounts;
DROP INDEX idx_users_email_lower;
DROP TABLE users;
