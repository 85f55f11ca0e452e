"""Plain data passed in and out of the extraction functions (picklable, for worker processes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from schemas import PostRecord

PageKind = Literal["post", "page", "listing"]


@dataclass
class Hints:
    """What the crawl learnt about a URL before fetching it (feed item, sitemap entry)."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None  # ISO 8601 as found in the feed
    updated: str | None = None
    categories: list[str] = field(
        default_factory=list
    )  # feed <category>: categories and tags mixed
    lastmod: str | None = None  # sitemap <lastmod>
    in_feed: bool = False
    sitemap_kind: Literal["post", "page", "other"] | None = None  # which sitemap listed it


@dataclass
class PageAnalysis:
    """The result of analysing one HTML page."""

    kind: PageKind
    signals: dict[str, str] = field(default_factory=dict)  # signal name -> what it said
    canonical_url: str | None = None
    links: list[str] = field(default_factory=list)  # absolute <a href> targets, page order
    feed_links: list[str] = field(default_factory=list)  # <link rel=alternate> RSS/Atom
    comment_feeds: list[str] = field(default_factory=list)  # blog-wide comment feeds
    next_links: list[str] = field(default_factory=list)  # pagination towards older posts
    entry_links: list[str] = field(default_factory=list)  # a listing's links to its entries
    comment_feed: str | None = None  # the page's own comment feed, if it advertises one
    block_samples: dict[str, str] = field(default_factory=dict)  # fingerprint -> text, on request
    record: PostRecord | None = None  # for posts and pages
    skip_reason: str | None = None  # why a post or page has no record
    fingerprints: list[str] = field(default_factory=list)  # text blocks (posts/pages; profile.py)
    removed: list[str] = field(default_factory=list)  # body blocks dropped as site boilerplate
