"""Is a page a post, a static page, or a listing? Evidence weighed, never one signal alone.

No single signal works on every blog: body classes are exact but engine-specific (and some
themes set `home` on every page), JSON-LD and OpenGraph are often missing or wrong (Jekyll's
SEO plugin types static pages `BlogPosting`), URL shapes vary, and a listing is best recognised
by what it looks like (many entries with their own title links, mostly links). Each signal
votes for one kind with a weight; the kind with the most weight wins, and a listing must
outweigh post and page together. What an engine is known to do comes from
`crawler.extract.engines`. The decision, the engine and every vote are returned so the crawl
log can say why (`classified URL as KIND ...`, DEBUG).
"""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.extract import engines as engine_table
from crawler.extract.engines import Engine, detect_engine, engines_for, match_any
from crawler.extract.metadata import jsonld_items
from crawler.extract.safeurl import urlsplit
from crawler.extract.types import Hints, PageKind

_POST_LD_TYPES = {
    "blogposting",
    "article",
    "newsarticle",
    "techarticle",
    "socialmediaposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "liveblogposting",
    "scholarlyarticle",
    "recipe",
    "review",
}
_LISTING_LD_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage", "blog"}
_PAGE_LD_TYPES = {"webpage", "aboutpage", "contactpage"}

# signals that tell a post from a static page, but say nothing about listings
_POST_OR_PAGE_ONLY = frozenset({"menu", "date_shown"})

STRONG = 4.0
MEDIUM = 2.0
WEAK = 1.0

_OUTSIDE_MAIN = (
    "ancestor::*[self::nav or self::aside or self::footer or self::header"
    " or contains(@class, 'comment') or contains(@class, 'related') or contains(@class, 'widget')"
    " or contains(@class, 'sidebar')]"
)


def _classes(el: lxml_html.HtmlElement | None) -> set[str]:
    return set((el.get("class") or "").split()) if el is not None else set()


def _has_class(classes: set[str], wanted: frozenset[str]) -> bool:
    """`wanted` entries ending in `*` are prefixes (`page-id-*`)."""
    for want in wanted:
        if want.endswith("*"):
            if any(c.startswith(want[:-1]) for c in classes):
                return True
        elif want in classes:
            return True
    return False


def _ld_types(tree: lxml_html.HtmlElement) -> set[str]:
    """The schema.org types of the page's JSON-LD (read by the one JSON-LD reader that
    metadata and comments use), `mainEntity` included."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            kind = node.get("@type")
            for k in kind if isinstance(kind, list) else [kind]:
                if isinstance(k, str):
                    found.add(k.rsplit("/", 1)[-1].lower())
            if "mainEntity" in node:
                walk(node["mainEntity"])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(jsonld_items(tree))
    return found


def _same_page(href: str, url: str) -> bool:
    parts, own = urlsplit(href), urlsplit(url)
    if parts.netloc and parts.netloc != own.netloc:
        return False
    strip = engine_table.strip_index
    return strip(parts.path or own.path).rstrip("/") == strip(own.path).rstrip("/")


def _entry_blocks(tree: lxml_html.HtmlElement, url: str, engine: Engine | None) -> tuple[int, int]:
    """(entries the page lists, entries whose title links to the page itself). Entries are
    teasers (article, h-entry, .hentry) whose heading links elsewhere, linked titles in a list
    of entries, or headings and list items linking to other dated post permalinks."""
    heads = ".//*[self::h1 or self::h2 or self::h3 or self::h4]//a/@href"
    elsewhere, itself = 0, 0
    for entry in tree.xpath(
        "//*[self::article or contains(concat(' ', @class, ' '), ' h-entry ')"
        " or contains(concat(' ', @class, ' '), ' hentry ')]"
        f"[not(ancestor-or-self::*[contains(@class, 'comment')])][not({_OUTSIDE_MAIN})]"
        "[not(ancestor::article or ancestor::*[contains(@class, 'h-entry')])]"
    ):
        hrefs = entry.xpath(heads)
        if any(not _same_page(h, url) for h in hrefs):
            elsewhere += 1
        elif hrefs:
            itself += 1
    titles = [
        h
        for h in tree.xpath(
            "//*[self::h2 or self::h3][a[@href]][contains(@class, 'title')]"
            f"[not({_OUTSIDE_MAIN})]/a/@href"
        )
        if not _same_page(h, url)
    ]
    host = urlsplit(url).netloc

    def dated(xpath: str) -> int:
        found = set()
        for href in tree.xpath(f"{xpath}[not({_OUTSIDE_MAIN})]"):
            parts = urlsplit(href)
            if parts.netloc and parts.netloc != host:
                continue
            if (
                parts.path
                and not _same_page(href, url)
                and engine_table.url_date(parts.path, engine)
            ):
                found.add(parts.path)
        return len(found)

    in_headings = dated("//*[self::h2 or self::h3 or self::h4]//a/@href")
    in_lists = dated("//li//a/@href")  # a post may link a few older posts in a list
    return max(elsewhere, len(titles), in_headings, in_lists if in_lists >= 3 else 0), itself


def _link_density(tree: lxml_html.HtmlElement) -> tuple[float, int]:
    """Share of the main area's text that sits inside links, and that text's length."""
    mains = tree.xpath("//main | //*[@role='main'] | //*[@id='content' or @id='main']")
    root = mains[0] if mains else tree.find("body")
    if root is None:
        return 0.0, 0
    total = len(" ".join(root.xpath(".//text()[not(ancestor::script or ancestor::style)]")).split())
    linked = len(" ".join(root.xpath(".//a//text()")).split())
    return (linked / total if total else 0.0), total * 6


def _shows_date(tree: lxml_html.HtmlElement) -> bool:
    """The page prints a machine-readable date of its own (outside comments and sidebars)."""
    return bool(
        tree.xpath(
            "//time[not(ancestor::*[contains(@class, 'comment') or self::aside or self::nav])]"
            " | //*[contains(@class, 'published') or contains(@class, 'entry-date')"
            " or contains(@class, 'post-date') or @itemprop='datePublished'][not(self::meta)]"
            "[not(ancestor::*[contains(@class, 'comment') or self::aside or self::nav])]"
        )
    )


def _self_in_menu(tree: lxml_html.HtmlElement, url: str, engine: Engine | None) -> bool:
    """The page is an entry of the site's own menu (a `<nav>` outside the content, or a
    menu link class the engine uses), as static pages are and posts rarely."""
    own = urlsplit(url).path.rstrip("/") or "/"
    if own == "/":
        return False
    nav_classes = engine.nav_page_classes if engine is not None else frozenset()
    for a in tree.xpath(
        "//nav//a[@href][not(ancestor::article or ancestor::main or ancestor::footer)]"
        " | //header//a[@href][not(ancestor::article or ancestor::main)]"
        " | //a[@href][@class]"
    ):
        in_menu = a.xpath("ancestor::nav or ancestor::header")
        if not in_menu and not (nav_classes and _has_class(_classes(a), nav_classes)):
            continue
        parts = urlsplit(a.get("href", ""))
        if parts.netloc and parts.netloc != urlsplit(url).netloc:
            continue
        if (parts.path.rstrip("/") or "/") == own and not parts.fragment:
            return True
    return False


def classify(
    tree: lxml_html.HtmlElement, url: str, hints: Hints | None = None, *, site_root: bool = False
) -> tuple[PageKind, dict[str, str]]:
    """Decide post, page or listing; return the decision and each signal's vote (and the
    engine, when one was recognised)."""
    votes: dict[str, tuple[str, float]] = {}
    engine = detect_engine(tree)
    path = urlsplit(url).path or "/"
    query = urlsplit(url).query

    body = tree.find("body")
    classes = _classes(body)
    entries_xpath = "//article | //*[contains(concat(' ', @class, ' '), ' h-entry ')]"
    articles = tree.xpath(entries_xpath)
    marked = classes | (_classes(articles[0]) if len(articles) == 1 else set())
    # an engine's classes are exact on that engine; on an unknown one, only a hint
    exact = STRONG if engine is not None else MEDIUM
    for entry in engine_table.ENGINES if engine is None else (engine,):
        if _has_class(classes, entry.listing_classes):
            votes["classes"] = ("listing", exact)
        elif _has_class(marked, entry.post_classes):
            votes["classes"] = ("post", exact)
        elif _has_class(marked, entry.page_classes):
            votes["classes"] = ("page", exact)
        elif _has_class(classes, entry.weak_listing_classes):
            votes["classes"] = ("listing", WEAK)
        else:
            continue
        break
    if "page" in classes and any(c.startswith("page-id-") for c in classes):
        votes.setdefault("classes", ("page", exact))  # WordPress, recognised or not

    trusted = engine is None or engine.types_reliable
    ld = _ld_types(tree)
    if ld & _POST_LD_TYPES:
        votes["json_ld"] = ("post", MEDIUM if trusted else WEAK)
    elif ld & _LISTING_LD_TYPES:
        votes["json_ld"] = ("listing", MEDIUM)
    elif ld & _PAGE_LD_TYPES:
        votes["json_ld"] = ("page", WEAK)

    og = tree.xpath('string(//meta[@property="og:type"]/@content)').strip().lower()
    if og == "article":
        votes["og_type"] = ("post", MEDIUM if trusted else WEAK)
    elif og in {"website", "blog", "profile"}:
        votes["og_type"] = ("listing", WEAK)

    if hints is not None:
        if hints.in_feed:
            votes["feed"] = ("post", MEDIUM)
        if hints.sitemap_kind in ("post", "page"):
            votes["sitemap"] = (hints.sitemap_kind, MEDIUM)

    target = path + (f"?{query}" if query else "")
    rules = engines_for(engine)
    if site_root:
        votes["url"] = ("listing", STRONG)
    elif any(match_any(e.listing_paths, target) for e in rules):
        votes["url"] = ("listing", MEDIUM)
    elif any(match_any(e.page_paths, path) for e in rules):
        votes["url"] = ("page", MEDIUM)
    elif engine_table.is_post_path(path, engine):
        votes["url"] = ("post", MEDIUM)
    elif engine is not None and engine.post_paths:
        votes["url"] = ("page", WEAK)  # not the engine's post permalink

    entries, itself = _entry_blocks(tree, url, engine)
    if entries >= 6:
        votes["entries"] = ("listing", STRONG)
    elif entries >= 1:
        votes["entries"] = ("listing", MEDIUM)
    elif itself == 1:
        votes["entries"] = ("post", WEAK)

    density, text_chars = _link_density(tree)
    if density > 0.6:
        votes["link_density"] = ("listing", MEDIUM)
    elif density < 0.35 and text_chars > 1500:
        votes["link_density"] = ("post", WEAK)

    if not site_root and votes.get("url", ("", 0))[0] != "listing" and not entries:
        if _self_in_menu(tree, url, engine):
            votes["menu"] = ("page", MEDIUM)
        if _shows_date(tree):
            votes["date_shown"] = ("post", WEAK)
        elif votes.get("url", ("", 0))[0] != "post":
            votes["date_shown"] = ("page", MEDIUM)

    scores: dict[str, float] = {"post": 0.0, "page": 0.0, "listing": 0.0}
    content = 0.0
    for name, (kind, weight) in votes.items():
        scores[kind] += weight
        if kind != "listing" and name not in _POST_OR_PAGE_ONLY:
            content += weight
    unsure = content == 0 and (scores["listing"] > 0 or text_chars < 100)
    if scores["listing"] > content or unsure:
        decision: PageKind = "listing"
    elif scores["page"] > scores["post"]:
        decision = "page"
    else:
        decision = "post"
    signals = {name: f"{kind}:{weight:g}" for name, (kind, weight) in votes.items()}
    if engine is not None:
        signals["engine"] = engine.name
    return decision, signals
