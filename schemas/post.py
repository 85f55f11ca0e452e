"""The archived record of one blog post or static page."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1


_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, screen clears
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS, PM, APC, SOS strings
    r"|\x1b[@-Z\\-_]?"  # two-byte escapes, a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """`text` without terminal escape sequences and control characters (NUL, BEL, C1...);
    tabs and newlines stay, a carriage return becomes a newline."""
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ESCAPES.sub("", text))


def content_hash(text: str) -> str:
    """The `content_hash` of a body text: sha256 of its UTF-8 bytes, prefixed by the algorithm."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class Comment(BaseModel):
    """One reader comment, pingback or trackback, in page order."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        description="The comment's id on its page (WordPress: the number in #comment-N)"
    )
    parent_id: str | None = Field(None, description="id of the comment this one replies to")
    author: str | None = Field(None, description="display name of the comment's author")
    published: AwareDatetime | None = Field(None, description="when the comment was written")
    text: str = Field(description="the comment's text, paragraphs separated by blank lines")
    type: Literal["comment", "pingback", "trackback"] = "comment"

    @field_validator("text", "author")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return clean_text(value) if value is not None else None


class Extractor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str


class WarcRef(BaseModel):
    """Where the raw HTTP response behind a record is stored (see archive/warc.py)."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="WARC file, relative to the archive directory")
    offset: int = Field(ge=0, description="byte offset of the record's gzip member")
    length: int = Field(ge=0, description="length of that gzip member in bytes")
    record_id: str = Field(description="WARC-Record-ID of the response record")


class PostRecord(BaseModel):
    """One record per archived post or page; a line of the JSONL archive."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    url: str = Field(description="the URL the page was fetched from, after redirects")
    canonical_url: str = Field(
        description="the URL that identifies the post: the URL fetched, or its rel=canonical "
        "when that names another URL of the same blog"
    )
    declared_canonical_url: str | None = Field(
        None,
        description="the page's rel=canonical / og:url when it is not `canonical_url` (another "
        "blog's post it was cross-posted from, an index.html spelling): information only",
    )
    site: str = Field(description="the blog the post belongs to: its start URL")
    kind: Literal["post", "page"]
    title: str | None = Field(
        None, description="the post's title; null for a post without one (a status post)"
    )
    authors: list[str] = Field(default_factory=list)
    published: AwareDatetime | None = None
    updated: AwareDatetime | None = None
    categories: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    language: str | None = Field(None, description="ISO 639-1 code of the body's language")
    description: str | None = None
    site_name: str | None = None
    image: str | None = Field(None, description="URL of the featured image")
    text: str = Field(description="the body alone: paragraphs separated by blank lines, no title")
    markdown: str = Field(description="the body as Markdown: headings, lists, quotes, tables, code")
    comments: list[Comment] = Field(default_factory=list)
    comments_status: Literal["captured", "none", "not_captured"] = Field(
        "captured",
        description="captured: `comments` is complete as served; none: the page shows no "
        "comments; not_captured: comments are loaded by JavaScript (see comments_system)",
    )
    comments_system: str | None = Field(None, description="e.g. disqus, when not captured")
    word_count: int = Field(ge=0)
    content_hash: str = Field(description="sha256 of `text` (see schemas.post.content_hash)")
    fetched_at: AwareDatetime
    status: int = Field(ge=100, le=599, description="HTTP status of the archived response")
    extractor: Extractor
    sources: dict[str, str] = Field(
        default_factory=dict, description="for each metadata field, the source that won"
    )
    warc: WarcRef | None = Field(None, description="the raw response this record came from")
    version: int = Field(1, ge=1, description="1 for the first record of a post, then +1 a change")
    previous_hash: str | None = Field(None, description="content_hash of the previous version")
    deleted: Literal[False] = False

    @field_validator("url", "canonical_url", "site")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"not an absolute http(s) URL: {value!r}")
        return value

    @field_validator("description", "site_name")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return clean_text(value) if value is not None else None

    @field_validator("authors", "categories", "tags")
    @classmethod
    def _clean_all(cls, values: list[str]) -> list[str]:
        return [clean_text(v) for v in values]

    @field_validator("title")
    @classmethod
    def _blank_title_is_none(cls, value: str | None) -> str | None:
        return clean_text(value or "").strip() or None

    @model_validator(mode="after")
    def _consistent(self) -> PostRecord:
        if not self.text.strip():
            raise ValueError("text is empty")
        if self.word_count != len(self.text.split()):
            raise ValueError("word_count does not match text")
        if self.content_hash != content_hash(self.text):
            raise ValueError("content_hash does not match text")
        ids = [c.id for c in self.comments]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate comment ids")
        return self


class ExtractedRecord(PostRecord):
    """What `blogarchive extract` prints for a page given without a URL (read from a file):
    a PostRecord whose `url`, `canonical_url` and `site` may be null. Never archived."""

    url: str | None = Field(None, description="the page's URL, when one was given")  # type: ignore[assignment]
    canonical_url: str | None = Field(None, description="rel=canonical, else `url`")  # type: ignore[assignment]
    site: str | None = Field(None, description="the site the page belongs to")  # type: ignore[assignment]

    @field_validator("url", "canonical_url", "site")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:  # type: ignore[override]
        if value is None:
            return None
        return PostRecord._absolute_http_url.__func__(cls, value)  # type: ignore[attr-defined]


class Tombstone(BaseModel):
    """Written when a post that was archived answers 404/410: it is gone since `deleted_at`."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    deleted: Literal[True] = True
    url: str
    canonical_url: str
    site: str
    kind: Literal["post", "page"]
    deleted_at: AwareDatetime = Field(description="when the crawl first saw the post gone")
    status: int = Field(ge=100, le=599, description="the HTTP status that said it is gone")
    version: int = Field(ge=2, description="the version number this tombstone takes")
    previous_hash: str | None = Field(None, description="content_hash of the last version")
    warc: WarcRef | None = None

    _absolute = field_validator("url", "canonical_url", "site")(
        PostRecord._absolute_http_url.__func__  # type: ignore[attr-defined]
    )


ArchiveRecord = Annotated[PostRecord | Tombstone, Field(discriminator="deleted")]
"""One line of the archive: a post's version, or its tombstone."""
