-- Rollback of 0006.drop-published-at-index: one statement per forward
-- statement, in reverse order.

CREATE INDEX CONCURRENTLY idx_content_published_at ON content (published_at);

RESET lock_timeout;
