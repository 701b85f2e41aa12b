"""The triggers registry, and its agreement with pg_trigger in a migrated database."""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
import pytest

from codex_db import (
    DATABASE_TRIGGERS,
    DatabaseWs,
    TriggerMetadata,
    UnknownTriggerError,
    get_all_trigger_names,
    get_trigger_metadata,
    get_triggers_for_table,
    triggers,
)

Conn = psycopg.Connection[Any]


class TestRegistryAgainstTheDatabase:
    def test_registry_matches_pg_trigger(self, conn: Conn) -> None:
        """Every trigger in the migrated database is registered, and every registered one exists."""
        assert triggers.trigger_drift(conn) == []
        assert set(triggers.installed_triggers(conn)) == set(DATABASE_TRIGGERS)

    def test_every_field_matches(self, conn: Conn) -> None:
        """Table, function, timing, events, columns, level and condition agree field by field."""
        installed = triggers.installed_triggers(conn)
        for name, expected in DATABASE_TRIGGERS.items():
            actual = installed[name]
            assert (actual.table, actual.function, actual.timing) == (
                expected.table,
                expected.function,
                expected.timing,
            )
            assert (actual.events, actual.columns, actual.for_each) == (
                expected.events,
                expected.columns,
                expected.for_each,
            )
            assert (actual.condition is None) == (expected.condition is None)
            assert actual.enabled

    def test_unregistered_trigger_is_reported(self, conn: Conn) -> None:
        """A trigger in the database that the registry lacks is drift."""
        conn.execute(
            "CREATE TRIGGER trigger_rogue BEFORE INSERT ON users"
            " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )
        assert triggers.trigger_drift(conn) == ["trigger_rogue: in the database but not registered"]

    def test_missing_trigger_is_reported(self, conn: Conn) -> None:
        """A registered trigger absent from the database is drift."""
        conn.execute("DROP TRIGGER trigger_unpublish_on_org_delete ON content")
        assert triggers.trigger_drift(conn) == [
            "trigger_unpublish_on_org_delete: registered but not in the database"
        ]

    def test_changed_condition_and_timing_are_reported(self, conn: Conn) -> None:
        """A trigger redefined with another condition or timing is drift."""
        conn.execute("DROP TRIGGER trigger_end_sessions_on_user_soft_delete ON users")
        conn.execute(
            "CREATE TRIGGER trigger_end_sessions_on_user_soft_delete"
            " BEFORE UPDATE OF deleted_at, name ON users FOR EACH ROW"
            " WHEN (new.deleted_at IS NOT NULL)"
            " EXECUTE FUNCTION end_sessions_on_user_soft_delete()"
        )
        drift = triggers.trigger_drift(conn)
        assert [line.split(" is ")[0] for line in drift] == [
            "trigger_end_sessions_on_user_soft_delete: columns",
            "trigger_end_sessions_on_user_soft_delete: condition",
            "trigger_end_sessions_on_user_soft_delete: timing",
        ]

    def test_disabled_trigger_is_reported(self, conn: Conn) -> None:
        """A disabled trigger is drift: the rule it stands for no longer holds."""
        conn.execute("ALTER TABLE content DISABLE TRIGGER trigger_set_content_updated_at")
        assert triggers.trigger_drift(conn) == [
            "trigger_set_content_updated_at: disabled in the database"
        ]


class TestLookup:
    def test_lookup_by_trigger_name(self) -> None:
        """get_trigger_metadata takes a trigger name."""
        trigger = get_trigger_metadata("trigger_unpublish_on_org_delete")
        assert (trigger.table, trigger.function) == ("content", "unpublish_content_on_org_delete")

    def test_lookup_by_function_name_as_in_the_reference(self) -> None:
        """get_trigger_metadata takes a function name run by exactly one trigger."""
        trigger = get_trigger_metadata("unpublish_content_on_org_delete")
        assert trigger is DATABASE_TRIGGERS["trigger_unpublish_on_org_delete"]
        assert trigger.description
        assert trigger.business_reason
        assert trigger.event == "UPDATE"
        assert trigger.migration == "0003.triggers"

    def test_shared_function_needs_the_trigger_name(self) -> None:
        """A function several triggers run is ambiguous: the error lists those triggers."""
        with pytest.raises(UnknownTriggerError, match="run by 7 triggers: use one of") as info:
            get_trigger_metadata("set_updated_at")
        assert "trigger_set_users_updated_at" in str(info.value)

    def test_unknown_name_lists_the_known_ones(self) -> None:
        """An unknown name raises an error (a KeyError too) listing every trigger."""
        with pytest.raises(KeyError) as info:
            get_trigger_metadata("trigger_nope")
        message = str(info.value)
        assert message.startswith("unknown trigger 'trigger_nope': expected one of ")
        assert all(name in message for name in get_all_trigger_names())

    def test_triggers_for_table(self) -> None:
        """get_triggers_for_table returns that table's triggers, sorted by name."""
        assert [t.name for t in get_triggers_for_table("organizations")] == [
            "trigger_set_organizations_updated_at",
            "trigger_unpublish_on_org_soft_delete",
        ]

    def test_triggers_for_unknown_table(self) -> None:
        """An unknown table raises an error listing the tables with triggers."""
        with pytest.raises(UnknownTriggerError, match="no triggers on table 'posts': tables are"):
            get_triggers_for_table("posts")

    def test_all_names_sorted(self) -> None:
        """get_all_trigger_names lists all ten triggers, sorted."""
        names = get_all_trigger_names()
        assert names == sorted(names)
        assert len(names) == 10

    def test_event_clause_of_update_of(self) -> None:
        """The event property renders UPDATE OF columns as SQL writes it."""
        assert get_trigger_metadata("end_sessions_on_user_soft_delete").event == (
            "UPDATE OF deleted_at"
        )

    def test_registry_is_read_only(self) -> None:
        """Entries are frozen Structs and the mapping cannot be changed."""
        trigger = get_trigger_metadata("trigger_set_users_updated_at")
        assert isinstance(trigger, TriggerMetadata)
        with pytest.raises(AttributeError):
            trigger.table = "accounts"  # type: ignore[misc]
        with pytest.raises(TypeError):
            DATABASE_TRIGGERS["x"] = trigger  # type: ignore[index]

    def test_registry_serialises(self) -> None:
        """Entries encode to JSON (e.g. for an admin page)."""
        data = msgspec.json.decode(msgspec.json.encode(list(DATABASE_TRIGGERS.values())))
        assert data[0]["migration"] == "0003.triggers"


class TestBehaviourTheRegistryDescribes:
    def test_unpublish_on_org_delete(self, isolated_db: DatabaseWs) -> None:
        """Deleting an organization turns its published content into a personal draft."""
        isolated_db.run("INSERT INTO users (id, name, email) VALUES ('u1', 'J', 'j@example.com')")
        row = isolated_db.query_one(
            "INSERT INTO organizations (name, slug) VALUES ('Acme', 'acme') RETURNING id"
        )
        assert row is not None
        isolated_db.run(
            "INSERT INTO content (creator_id, organization_id, title, slug, content_type,"
            " status, published_at) VALUES ('u1', %s, 'T', 't', 'video', 'published', now())",
            (row[0],),
        )
        isolated_db.run("DELETE FROM organizations WHERE id = %s", (row[0],))
        assert isolated_db.query_one(
            "SELECT organization_id, status, published_at FROM content"
        ) == (None, "draft", None)
