-- Rollback of 0005.published-has-date: one statement per forward statement, in
-- reverse order. The backfilled dates stay: they are the best publication
-- dates anyone knows.

SELECT 1;

ALTER TABLE content DROP CONSTRAINT check_published_has_date;

SELECT 1;

RESET lock_timeout;
