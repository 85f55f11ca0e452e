"""Is a page a post, a static page, or a listing? Several weak signals, weighed together.

No single signal works on every blog: WordPress body classes are exact but WordPress-only,
JSON-LD and OpenGraph are often missing or wrong, URL shapes vary, and a listing is best
recognised by what it looks like (many entries, mostly links). Each signal votes with a
weight; the decision and every vote are returned so the crawl log can say why.
"""

from __future__ import annotations

import json
import re

from lxml import html as lxml_html

from crawler.extract.safeurl import urlsplit
from crawler.extract.types import Hints, PageKind

_LISTING_BODY_CLASSES = {
    "home",
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
    "tax",
    "post-type-archive",
}
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
_DATE_PATH = re.compile(r"/(?:19|20)\d\d/(?:0?[1-9]|1[0-2])/(?:(?:0?[1-9]|[12]\d|3[01])/)?[^/]+/?$")
_LISTING_PATH = re.compile(
    r"/(?:page/\d+|category|tag|tags|author|label|search|archives?|topics?)(?:/|$)"
    r"|^/(?:19|20)\d\d/(?:\d\d/(?:\d\d/)?)?$",
    re.IGNORECASE,
)
_LISTING_QUERY = re.compile(r"(?:^|&)(?:s|paged|cat|tag|author|m|page)=", re.IGNORECASE)

STRONG = 4.0
MEDIUM = 2.0
WEAK = 1.0


def _body_classes(tree: lxml_html.HtmlElement) -> set[str]:
    body = tree.find("body")
    return set((body.get("class") or "").split()) if body is not None else set()


def _ld_types(tree: lxml_html.HtmlElement) -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            kind = node.get("@type")
            for k in kind if isinstance(kind, list) else [kind]:
                if isinstance(k, str):
                    found.add(k.lower())
            for key in ("@graph", "mainEntity"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            walk(json.loads(script.text or ""))
        except ValueError:
            continue
    return found


def _entry_blocks(tree: lxml_html.HtmlElement) -> int:
    """How many post teasers the page shows: entries (article, h-entry, .hentry) outside
    comment sections whose heading links elsewhere, or linked titles in a list of entries."""
    teasers = tree.xpath(
        "//*[self::article or contains(concat(' ', @class, ' '), ' h-entry ')"
        " or contains(concat(' ', @class, ' '), ' hentry ')]"
        "[not(ancestor-or-self::*[contains(@class, 'comment')])]"
        "[.//*[self::h1 or self::h2 or self::h3 or self::h4]//a[@href]]"
    )
    titles = tree.xpath(
        "//*[self::h2 or self::h3][a[@href]][contains(@class, 'title')]"
        "[not(ancestor::*[contains(@class, 'comment') or self::aside or self::footer])]"
    )
    return max(len(teasers), len(titles))


def _link_density(tree: lxml_html.HtmlElement) -> tuple[float, int]:
    """Share of the main area's text that sits inside links, and that text's length."""
    mains = tree.xpath("//main | //*[@role='main'] | //*[@id='content' or @id='main']")
    root = mains[0] if mains else tree.find("body")
    if root is None:
        return 0.0, 0
    total = len(" ".join(root.xpath(".//text()[not(ancestor::script or ancestor::style)]")).split())
    linked = len(" ".join(root.xpath(".//a//text()")).split())
    return (linked / total if total else 0.0), total * 6


def classify(
    tree: lxml_html.HtmlElement, url: str, hints: Hints | None = None, *, site_root: bool = False
) -> tuple[PageKind, dict[str, str]]:
    """Decide post, page or listing; return the decision and each signal's vote."""
    votes: dict[str, tuple[str, float]] = {}

    classes = _body_classes(tree)
    if classes & {"single", "single-post"}:
        votes["body_class"] = ("post", STRONG)
    elif classes & _LISTING_BODY_CLASSES:
        votes["body_class"] = ("listing", STRONG)
    elif "page" in classes and any(c.startswith("page-id-") for c in classes):
        votes["body_class"] = ("page", STRONG)

    ld = _ld_types(tree)
    if ld & _POST_LD_TYPES:
        votes["json_ld"] = ("post", MEDIUM)
    elif ld & _LISTING_LD_TYPES:
        votes["json_ld"] = ("listing", MEDIUM)
    elif "webpage" in ld or "aboutpage" in ld or "contactpage" in ld:
        votes["json_ld"] = ("page", WEAK)

    og = tree.xpath('string(//meta[@property="og:type"]/@content)').strip().lower()
    if og == "article":
        votes["og_type"] = ("post", MEDIUM)
    elif og in {"website", "blog", "profile"}:
        votes["og_type"] = ("listing", WEAK)

    if hints is not None:
        if hints.in_feed:
            votes["feed"] = ("post", MEDIUM)
        if hints.sitemap_kind in ("post", "page"):
            votes["sitemap"] = (hints.sitemap_kind, MEDIUM)

    parts = urlsplit(url)
    if site_root:
        votes["url"] = ("listing", STRONG)
    elif _LISTING_PATH.search(parts.path) or _LISTING_QUERY.search(parts.query):
        votes["url"] = ("listing", MEDIUM)
    elif _DATE_PATH.search(parts.path):
        votes["url"] = ("post", MEDIUM)

    entries = _entry_blocks(tree)
    if entries >= 3:
        votes["entries"] = ("listing", MEDIUM if entries < 6 else STRONG)
    elif entries == 1:
        votes["entries"] = ("post", WEAK)

    density, text_chars = _link_density(tree)
    if density > 0.6:
        votes["link_density"] = ("listing", MEDIUM)
    elif density < 0.35 and text_chars > 1500:
        votes["link_density"] = ("post", WEAK)

    scores: dict[str, float] = {"post": 0.0, "page": 0.0, "listing": 0.0}
    for kind, weight in votes.values():
        scores[kind] += weight
    content = scores["post"] + scores["page"]
    unsure = content == 0 and (scores["listing"] > 0 or text_chars < 100)
    if scores["listing"] > content or unsure:
        decision: PageKind = "listing"
    elif scores["page"] > scores["post"]:
        decision = "page"
    else:
        decision = "post"
    return decision, {name: f"{kind}:{weight:g}" for name, (kind, weight) in votes.items()}
