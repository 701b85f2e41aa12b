-- Published content always has published_at: keyset pagination orders by
-- (published_at, id), and a published row without a date would fall out of
-- every page. Rows imported that way get their last change as the date.
-- Not one transaction: the constraint is added NOT VALID (a short lock) and
-- validated afterwards without blocking reads or writes.
-- transactional: false
-- depends: 0004.query-indexes

SET lock_timeout = '5s';

UPDATE content SET published_at = updated_at
WHERE status = 'published' AND published_at IS NULL;

ALTER TABLE content ADD CONSTRAINT check_published_has_date
    CHECK (status <> 'published' OR published_at IS NOT NULL) NOT VALID;

ALTER TABLE content VALIDATE CONSTRAINT check_published_has_date;
