"""Pydantic models of everything blogarchive writes, and their JSON Schema."""

from schemas.post import (
    SCHEMA_VERSION,
    ArchiveRecord,
    Comment,
    ExtractedRecord,
    Extractor,
    PostRecord,
    Tombstone,
    WarcRef,
    content_hash,
)

__all__ = [
    "ArchiveRecord",
    "Tombstone",
    "SCHEMA_VERSION",
    "Comment",
    "ExtractedRecord",
    "Extractor",
    "PostRecord",
    "WarcRef",
    "content_hash",
]
