-- Rollback of 0002.content: one statement per forward statement, in reverse order.

DROP INDEX idx_content_category;
DROP INDEX idx_content_published_at;
DROP INDEX idx_content_status;
DROP INDEX idx_content_media_item_id;
DROP INDEX idx_content_organization_id;
DROP INDEX idx_content_creator_id;
DROP INDEX idx_unique_content_slug_personal;
DROP INDEX idx_unique_content_slug_per_org;
DROP TABLE content;
DROP INDEX idx_media_items_status;
DROP INDEX idx_media_items_creator_id;
DROP TABLE media_items;
DROP INDEX idx_organizations_owner_id;
DROP TABLE organizations;
