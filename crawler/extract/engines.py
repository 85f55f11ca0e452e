"""What each blog engine is known to do, as data: one entry per engine.

An entry says how to recognise the engine (the `<meta name="generator">` it writes, or a marker
in its markup), which body/article classes mean post, page or listing, which URL shapes are its
archives (listings), which are its dated post permalinks (the only URLs whose digits are a date),
which are its static pages, and which of its metadata is not to be trusted. Adding an engine is
adding an entry; `GENERIC` holds what is true of most engines and is used on every page, so
pages of an unknown engine are still classified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import html as lxml_html

_Y = r"(?P<year>(?:19|20)\d\d)"
_M = r"(?P<month>0[1-9]|1[0-2])"
_D = r"(?P<day>0[1-9]|[12]\d|3[01])"
_SLUG = r"[^/?#]*[A-Za-z][^/?#]*"


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


@dataclass(frozen=True)
class Engine:
    name: str
    generator: re.Pattern[str] | None = None  # matched against <meta name="generator">
    markers: tuple[str, ...] = ()  # substrings of the page's HTML that betray the engine
    post_classes: frozenset[str] = frozenset()  # <body>/<article> class tokens: a post
    page_classes: frozenset[str] = frozenset()  # ... a static page
    listing_classes: frozenset[str] = frozenset()  # ... an archive, home, search, 404
    weak_listing_classes: frozenset[str] = frozenset()  # set on more than listings by themes
    listing_paths: tuple[re.Pattern[str], ...] = ()  # archive URL paths
    post_paths: tuple[re.Pattern[str], ...] = ()  # post permalinks (dated: groups year/month/day)
    page_paths: tuple[re.Pattern[str], ...] = ()  # static page URL paths
    category_paths: tuple[re.Pattern[str], ...] = ()  # a category archive link
    tag_paths: tuple[re.Pattern[str], ...] = ()  # a tag archive link
    nav_page_classes: frozenset[str] = frozenset()  # menu link classes that name pages
    types_reliable: bool = True  # False: types static pages BlogPosting / og:type article too
    # where the engine prints a post's byline when no generic rule finds it (a sidebar, say):
    # field (authors, published, categories, tags) -> XPath of elements whose text (or, for
    # dates, @datetime) is the value
    byline_xpaths: dict[str, str] = field(default_factory=dict)


GENERIC = Engine(
    name="generic",
    listing_paths=_rx(
        r"/(?:page|seite|pagina|strona)/\d+/?$",
        r"/page\d+/?$",
        r"/(?:category|categories|tag|tags|author|authors|label|topics?|kategorie|schlagwort)"
        r"(?:/|\.html$|$)",
        r"/(?:archives?|archiv)(?:/|\.html$|$)",
        rf"^/{_Y}/(?:{_M}/(?:{_D}/)?)?$",
        r"/search(?:/|$)",
    ),
    post_paths=_rx(rf"/{_Y}/{_M}/{_D}/{_SLUG}", rf"/{_Y}/{_M}/{_SLUG}"),
    category_paths=_rx(r"/(?:category|categories|kategorie|categorie|categoria|cat)/"),
    tag_paths=_rx(r"/(?:tag|tags|schlagwort|etiqueta|tagged)/"),
)

ENGINES: tuple[Engine, ...] = (
    Engine(
        name="wordpress",
        generator=re.compile(r"^wordpress", re.I),
        markers=("/wp-content/", "/wp-includes/", "wp-block-"),
        post_classes=frozenset({"single", "single-post"}),
        page_classes=frozenset({"page-template-default", "page-template"}),
        listing_classes=frozenset(
            {
                "blog",
                "archive",
                "category",
                "tag",
                "author",
                "date",
                "search",
                "search-results",
                "paged",
                "error404",
                "attachment",
                "post-type-archive",
            }
        ),  # fmt: skip
        weak_listing_classes=frozenset({"home"}),  # a static front page, or a theme's quirk
        listing_paths=_rx(r"[?&](?:s|paged|cat|tag|author|m)="),
        post_paths=_rx(rf"/{_Y}/{_M}/{_D}/{_SLUG}", rf"/{_Y}/{_M}/{_SLUG}"),
    ),
    Engine(
        name="jekyll",
        generator=re.compile(r"^jekyll", re.I),
        listing_paths=_rx(r"/page\d+/?$", r"/(?:categories|tags)/[^/]+/?$"),
        post_paths=_rx(rf"/{_Y}/{_M}/{_D}/{_SLUG}"),
        nav_page_classes=frozenset({"page-link"}),
        types_reliable=False,  # jekyll-seo-tag types static pages BlogPosting
    ),
    Engine(
        name="hexo",
        generator=re.compile(r"^hexo", re.I),
        markers=("article-type-post", "article-type-page"),
        post_classes=frozenset({"article-type-post"}),
        page_classes=frozenset({"article-type-page"}),
        listing_paths=_rx(r"/archives(?:/|$)", r"/(?:categories|tags)/[^/]+/"),
        post_paths=_rx(rf"/{_Y}/{_M}/{_D}/{_SLUG}"),
    ),
    Engine(
        name="hugo",
        generator=re.compile(r"^hugo", re.I),
        listing_paths=_rx(r"^/(?:posts?|blog|articles)/?$", r"/(?:categories|tags|series)/"),
        types_reliable=False,  # its OpenGraph template says `article` on every single page
    ),
    Engine(
        name="ghost",
        generator=re.compile(r"^ghost", re.I),
        post_classes=frozenset({"post-template"}),
        page_classes=frozenset({"page-template"}),
        listing_classes=frozenset({"home-template", "tag-template", "author-template", "paged"}),
        listing_paths=_rx(r"/(?:tag|author)/[^/]+/"),
    ),
    Engine(
        name="pelican",
        generator=re.compile(r"^pelican", re.I),
        listing_paths=_rx(
            r"/(?:category|tag|author)/[^/]+\.html$",
            r"/(?:archives|categories|tags|authors)\.html$",
            r"/index\d+\.html$",
        ),
        page_paths=_rx(r"/pages/[^/]+(?:\.html|/)$"),
    ),
    Engine(
        name="eleventy",
        generator=re.compile(r"^eleventy", re.I),
        listing_paths=_rx(r"^/(?:blog|posts)/?$", r"/tags/[^/]+/"),
    ),
    Engine(
        name="blogger",
        generator=re.compile(r"^blogger", re.I),
        markers=("blogger.com/static", "blogspot.com"),
        listing_paths=_rx(r"/search/label/", r"/search\?", rf"^/{_Y}/(?:{_M}/)?$"),
        post_paths=_rx(rf"^/{_Y}/{_M}/{_SLUG}\.html$"),
        page_paths=_rx(r"^/p/[^/]+\.html$"),
        tag_paths=_rx(r"/search/label/"),
    ),
    Engine(
        name="substack",
        markers=("substackcdn.com", "substack.com/"),
        post_paths=_rx(r"^/p/[^/]+/?$"),
        listing_paths=_rx(r"^/archive/?$", r"^/s/[^/]+/?$"),
    ),
    Engine(
        name="mkdocs",  # Material for MkDocs' blog plugin
        generator=re.compile(r"^mkdocs", re.I),
        listing_paths=_rx(r"/blog/(?:archive|category|page)/", r"/blog/?$"),
        post_paths=_rx(rf"/blog/{_Y}/{_M}/{_D}/{_SLUG}"),
        byline_xpaths={
            "authors": "//*[contains(@class, 'md-post__authors')]"
            "//*[contains(@class, 'md-profile__description')]/strong",
            "published": "//*[contains(@class, 'md-post__meta')]//time[@datetime]",
            "categories": "//*[contains(@class, 'md-post__meta')]//a[contains(@href, 'category/')]",
            "tags": "//*[contains(@class, 'md-tags')]//*[contains(@class, 'md-tag')]",
        },
    ),
    Engine(
        name="docusaurus",
        generator=re.compile(r"^docusaurus", re.I),
        listing_paths=_rx(r"/blog/(?:tags|page|archive|authors)(?:/|$)", r"/blog/?$"),
        post_paths=_rx(rf"/blog/{_Y}/{_M}/{_D}/{_SLUG}"),
    ),
)

_GENERATOR_XPATH = "//meta[translate(@name, 'GENRATO', 'genrato')='generator']/@content"


_MARKER_XPATH = "//link/@href | //script/@src | //body/@class | //article/@class"


def detect_engine(tree: lxml_html.HtmlElement) -> Engine | None:
    """The engine that made the page, by its generator `<meta>`, else by a marker in its
    stylesheet/script URLs or its body/article classes."""
    for content in tree.xpath(_GENERATOR_XPATH):
        for engine in ENGINES:
            if engine.generator is not None and engine.generator.search(content.strip()):
                return engine
    values = tree.xpath(_MARKER_XPATH)
    for engine in ENGINES:
        if any(marker in value for marker in engine.markers for value in values):
            return engine
    return None


def engines_for(engine: Engine | None) -> tuple[Engine, ...]:
    """The entries whose rules apply to a page: its engine's, then the generic ones."""
    return (engine, GENERIC) if engine is not None else (GENERIC,)


def match_any(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            return m
    return None


_INDEX_FILE = re.compile(r"/(?:index|default)\.(?:html?|php|aspx?|shtml)$", re.IGNORECASE)


def strip_index(path: str) -> str:
    """`/a/index.html` -> `/a/`: the directory index a static host serves for `/a/`."""
    return _INDEX_FILE.sub("/", path)


def is_post_path(path: str, engine: Engine | None) -> bool:
    """The path is a post permalink of the engine (or, engine unknown, a dated one)."""
    return any(match_any(entry.post_paths, path) for entry in engines_for(engine))


def url_date(path: str, engine: Engine | None) -> tuple[int, int, int | None] | None:
    """(year, month, day or None) when the path is a dated post permalink (the engine's, or
    one of the shapes most engines use); digits elsewhere in a URL are no date."""
    for entry in engines_for(engine):
        if entry.post_paths:
            m = match_any(entry.post_paths, path)
            if m and "year" not in m.groupdict():
                return None  # an undated permalink: a post, but no date in its URL
            if m:
                day = m.groupdict().get("day")
                return int(m["year"]), int(m["month"]), int(day) if day else None
    return None
