-- Triggers: business rules the database enforces whatever client writes.
-- Every trigger here is described in codex_db/triggers.py (DATABASE_TRIGGERS);
-- a test compares that registry with pg_trigger.

-- updated_at is maintained by the database, not by callers. clock_timestamp()
-- rather than now(), so an update in the same transaction as the insert still
-- moves updated_at past created_at.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END;
$$;

CREATE TRIGGER trigger_set_users_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER trigger_set_accounts_updated_at
    BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER trigger_set_sessions_updated_at
    BEFORE UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER trigger_set_verification_tokens_updated_at
    BEFORE UPDATE ON verification_tokens
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER trigger_set_organizations_updated_at
    BEFORE UPDATE ON organizations
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER trigger_set_media_items_updated_at
    BEFORE UPDATE ON media_items
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER trigger_set_content_updated_at
    BEFORE UPDATE ON content
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- When an organization is deleted, the content FK's ON DELETE SET NULL turns
-- its content into personal content: unpublish it, so it does not appear on
-- the creator's personal page by surprise.
CREATE FUNCTION unpublish_content_on_org_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.status := 'draft';
    NEW.published_at := NULL;
    RETURN NEW;
END;
$$;

CREATE TRIGGER trigger_unpublish_on_org_delete
    BEFORE UPDATE ON content
    FOR EACH ROW
    WHEN (old.organization_id IS NOT NULL AND new.organization_id IS NULL)
    EXECUTE FUNCTION unpublish_content_on_org_delete();

-- Soft-deleting an organization keeps the content FK in place, so the trigger
-- above does not fire: unpublish the organization's published content here.
CREATE FUNCTION unpublish_content_on_org_soft_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE content
    SET status = 'draft', published_at = NULL
    WHERE organization_id = NEW.id AND status = 'published';
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_unpublish_on_org_soft_delete
    AFTER UPDATE OF deleted_at ON organizations
    FOR EACH ROW
    WHEN (old.deleted_at IS NULL AND new.deleted_at IS NOT NULL)
    EXECUTE FUNCTION unpublish_content_on_org_soft_delete();

-- better-auth knows nothing of deleted_at and would keep accepting a
-- soft-deleted user's sessions: end them in the same transaction.
CREATE FUNCTION end_sessions_on_user_soft_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sessions WHERE user_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_end_sessions_on_user_soft_delete
    AFTER UPDATE OF deleted_at ON users
    FOR EACH ROW
    WHEN (old.deleted_at IS NULL AND new.deleted_at IS NOT NULL)
    EXECUTE FUNCTION end_sessions_on_user_soft_delete();
