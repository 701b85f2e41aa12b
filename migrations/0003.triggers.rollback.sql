-- Rollback of 0003.triggers: one statement per forward statement, in reverse order.

DROP TRIGGER trigger_end_sessions_on_user_soft_delete ON users;
DROP FUNCTION end_sessions_on_user_soft_delete();
DROP TRIGGER trigger_unpublish_on_org_soft_delete ON organizations;
DROP FUNCTION unpublish_content_on_org_soft_delete();
DROP TRIGGER trigger_unpublish_on_org_delete ON content;
DROP FUNCTION unpublish_content_on_org_delete();
DROP TRIGGER trigger_set_content_updated_at ON content;
DROP TRIGGER trigger_set_media_items_updated_at ON media_items;
DROP TRIGGER trigger_set_organizations_updated_at ON organizations;
DROP TRIGGER trigger_set_verification_tokens_updated_at ON verification_tokens;
DROP TRIGGER trigger_set_sessions_updated_at ON sessions;
DROP TRIGGER trigger_set_accounts_updated_at ON accounts;
DROP TRIGGER trigger_set_users_updated_at ON users;
DROP FUNCTION set_updated_at();
