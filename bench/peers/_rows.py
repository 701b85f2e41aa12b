"""The workloads' argument structs as plain parameter tuples, as a hand-written peer builds them."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from codex_db.generated import content

__all__ = ["copy_values", "create_values"]


def create_values(p: content.CreateContentParams, wrap: bool = True) -> tuple[Any, ...]:
    """The 14 parameters of ``CreateContent``; *wrap* tags in `Jsonb` (psycopg needs it)."""
    tags = Jsonb(p.tags) if wrap and p.tags is not None else p.tags
    return (
        p.creator_id,
        p.organization_id,
        p.media_item_id,
        p.title,
        p.slug,
        p.description,
        p.content_type,
        p.thumbnail_url,
        p.content_body,
        p.category,
        tags,
        p.visibility,
        p.price_cents,
        p.status,
    )


def copy_values(r: content.ImportContentParams, wrap: bool = True) -> tuple[Any, ...]:
    """The 18 columns of one bulk-inserted row; *wrap* tags in `Jsonb` (psycopg needs it)."""
    return (
        r.id,
        r.creator_id,
        r.organization_id,
        r.media_item_id,
        r.title,
        r.slug,
        r.description,
        r.content_type,
        r.thumbnail_url,
        r.content_body,
        r.category,
        Jsonb(r.tags) if wrap else r.tags,
        r.visibility,
        r.price_cents,
        r.status,
        r.published_at,
        r.view_count,
        r.purchase_count,
    )
