"""Post metadata from one parsed HTML page: title, authors, dates, taxonomy, language, ...

Every field is looked up in a fixed order of sources and the first plausible value wins; the
winning source is recorded in ``sources``. The order, best first:

``json-ld`` (schema.org Article/BlogPosting/WebPage, also inside ``@graph``), ``opengraph``
(``og:*``, ``article:*``), ``microformats`` (``h-entry``), ``microdata`` (schema.org
``itemprop``), ``meta`` (``<meta name=...>``), ``byline`` (the theme's visible post header or
footer: WordPress classic and block themes and the usual class names of other engines),
``html`` (``<h1>``, site title, featured image, ``rel=canonical``), ``title-tag``, then the crawl's
hints (``feed``, ``sitemap``), the ``url`` (``/YYYY/MM/DD/``) and, last, ``htmldate``.

Visible page elements are only taken from the post itself: anything inside a sidebar, widget,
navigation, comment area or "related/recent posts" box is ignored.

All functions are pure: the tree is only read, never changed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from itertools import chain
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from crawler.extract.engines import Engine, detect_engine, engines_for, match_any, url_date
from crawler.extract.safeurl import urljoin, urlsplit
from crawler.extract.types import Hints

__all__ = ["extract_metadata", "parse_datetime", "iso_aware", "is_excluded", "jsonld_items"]

# --------------------------------------------------------------------------- helpers


def _cls(name: str) -> str:
    """XPath predicate: the element's class list contains ``name`` as a whole token."""
    # the cheap substring test first: libxml2 short-circuits ``and``
    token = f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
    return f"(contains(@class, '{name}') and {token})"


_WS = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def norm_ws(text: str | None) -> str:
    """Collapse every run of whitespace (non-breaking spaces too) into one space and strip."""
    return _WS.sub(" ", text).strip() if text else ""


_SKIP_TEXT_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "button", "form"})


def _text(el: Any) -> str:
    """The visible-ish text of an element, whitespace collapsed (scripts and styles skipped)."""
    if not isinstance(el, etree._Element):
        return norm_ws(str(el))
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if isinstance(child.tag, str) and child.tag not in _SKIP_TEXT_TAGS:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return norm_ws("".join(parts))


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


# Containers whose content never describes the post itself.
_EXCLUDED_CLASS = re.compile(
    r"^(?:widget\S*|\S*-widget|sidebar\S*|\S*-sidebar|secondary|"
    r"comments?|comment-\S+|comments-\S+|commentlist|\S*-comments?|wp-block-comments?\S*|"
    r"wp-block-post-comments\S*|wp-block-latest-\S+|u-comment|p-comment|h-cite|"
    r"related\S*|\S*-related\S*|\S*relatedposts\S*|yarpp\S*|recent\S*|\S*-recent\S*|"
    r"\S*recent-posts\S*|site-footer|footer-widgets?|breadcrumbs?|post-navigation|"
    r"nav-links|pagination|author-archive\S*|tagcloud|\S*tag-cloud\S*|"
    r"popular-posts\S*)$"
)
_EXCLUDED_IDS = frozenset(
    {"comments", "respond", "secondary", "sidebar", "colophon", "disqus_thread"}
)
_EXCLUDED_ROLES = frozenset({"complementary", "navigation"})
# the post's own element: its classes name its terms ("tag-comments"), so they say nothing
_POST_CLASSES = frozenset({"hentry", "h-entry", "type-post", "type-page", "wp-block-post"})
_TERM_PREFIXES = ("tag-", "category-", "post_tag-", "format-")


@functools.lru_cache(maxsize=65536)
def _excluded_token(token: str) -> bool:
    return not token.startswith(_TERM_PREFIXES) and _EXCLUDED_CLASS.match(token) is not None


def is_excluded(el: etree._Element, stop: etree._Element | None = None) -> bool:
    """True if ``el`` (or an ancestor below ``stop``/``<body>``) is a sidebar, widget, nav,
    comment area, related-posts box or similar: something not about the post itself."""
    for node in chain((el,), el.iterancestors()):
        if node is stop:
            return False
        tag = node.tag
        if tag in ("body", "html"):
            return False
        if tag in ("aside", "nav"):
            return True
        node_id = node.get("id")
        if node_id and node_id.lower() in _EXCLUDED_IDS:
            return True
        if node.get("role") in _EXCLUDED_ROLES:
            return True
        classes = node.get("class")
        if classes:
            tokens = classes.lower().split()
            if _POST_CLASSES.isdisjoint(tokens) and any(map(_excluded_token, tokens)):
                return True
    return False


# --------------------------------------------------------------------------- dates

_ISO_LIKE = re.compile(
    r"^\s*(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*$"
)


def parse_datetime(value: str | None) -> datetime | None:
    """Parse an ISO 8601 (or RFC 822, as in RSS) date; naive if the string has no offset.

    A date without time gives midnight. Implausible years (before 1990 or after 2100) give None.
    """
    if not value:
        return None
    value = value.strip()
    m = _ISO_LIKE.match(value)
    if m:
        year, month, day, hour, minute, second, frac, tz = m.groups()
        try:
            micro = int((frac or "0")[:6].ljust(6, "0"))
            dt = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                micro,
            )
        except ValueError:
            return None
        if tz:
            if tz in ("Z", "z", "UTC", "GMT"):
                dt = dt.replace(tzinfo=timezone.utc)
            else:
                sign = -1 if tz[0] == "-" else 1
                digits = tz[1:].replace(":", "")
                hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
                if hours > 14 or minutes > 59:
                    return None
                dt = dt.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    else:
        try:
            dt = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if dt is None:
            return None
    if not 1990 <= dt.year <= 2100:
        return None
    return dt


def iso_aware(dt: datetime | None) -> str | None:
    """ISO 8601 with offset; a naive datetime is taken as UTC (the last resort)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.isoformat()


def _reconcile(page: datetime, hint: datetime | None) -> datetime | None:
    """If a naive page time and an aware hint are the same instant (the page in local time,
    the feed in GMT), return the page's local time with the offset that makes it so."""
    if hint is None or hint.tzinfo is None or page.tzinfo is not None:
        return None
    delta = page - hint.astimezone(timezone.utc).replace(tzinfo=None)
    seconds = delta.total_seconds()
    if abs(seconds) <= 14 * 3600 and seconds % 900 == 0:
        return page.replace(tzinfo=timezone(delta))
    return None


def _not_future(dt: datetime) -> bool:
    now = datetime.now(timezone.utc)
    aware = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    return aware <= now + timedelta(days=1)


# Month names of the big languages written in Latin or Cyrillic script (nominative and
# genitive forms, common abbreviations): a visible "27. August 2023" / "August 27, 2023".
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan januar jänner janvier enero ene gennaio gen janeiro januari styczeń stycznia"
        " sty januar январь января",
        "february feb februar feber février fevrier febrero febbraio fevereiro fev februari luty"
        " lutego lut февраль февраля",
        "march mar märz maerz mars marzo março marco maart marzec marca мар март марта",
        "april apr avril abril aprile abr kwiecień kwietnia kwi апрель апреля",
        "may mai mayo maggio maio mei maj maja май мая",
        "june jun juni juin junio giugno giu junho czerwiec czerwca cze июнь июня",
        "july jul juli juillet julio luglio lug julho lipiec lipca lip июль июля",
        "august aug août aout agosto ago augustus sierpień sierpnia sie augusti август августа",
        "september sep sept septembre septiembre settembre set setembro wrzesień września wrz"
        " сентябрь сентября",
        "october oct oktober octobre octubre ottobre ott outubro out październik października"
        " paź okt октябрь октября",
        "november nov novembre noviembre novembro listopad listopada lis ноябрь ноября",
        "december dec dez dezember décembre decembre diciembre dic dicembre dezembro grudzień"
        " grudnia gru desember december декабрь декабря",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS.setdefault(_name, _number)
_MONTH_RX = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_TIME_RX = (
    r"(?:\D{1,12}?(?P<hour>[01]?\d|2[0-3])[:.h](?P<minute>[0-5]\d)\s*(?P<ampm>[ap]\.?m\.?)?)?"
)
_TEXT_DATES = (
    re.compile(  # 27. August 2023, 27 août 2023, 27 de agosto de 2023, 27 августа 2023
        rf"(?<!\d)(?P<day>[0-3]?\d)\.?(?:º|er)?\s+(?:de\s+)?(?P<month>{_MONTH_RX})\.?,?\s+(?:de\s+)?"
        rf"(?P<year>(?:19|20)\d\d)(?!\d){_TIME_RX}",
        re.IGNORECASE,
    ),
    re.compile(  # August 27, 2023; Aug 27th 2023
        rf"(?<![\w])(?P<month>{_MONTH_RX})\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?,?\s+"
        rf"(?P<year>(?:19|20)\d\d)(?!\d){_TIME_RX}",
        re.IGNORECASE,
    ),
    re.compile(  # 27.08.2023 (day first, as in most of Europe)
        rf"(?<![\d.])(?P<day>[0-3]?\d)\.(?P<month>[01]?\d)\.(?P<year>(?:19|20)\d\d)(?![\d]){_TIME_RX}"
    ),
    re.compile(
        rf"(?<!\d)(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)(?!\d){_TIME_RX}"
    ),
)
_PUBLISH_WORDS = re.compile(
    r"veröffentlicht|publiziert|geschrieben|erschienen|published|posted|written|publié|"
    r"publicado|pubblicato|gepubliceerd|geplaatst|opublikowano|publicerad|publiceret|"
    r"publisert|опубликовано|am\s|on\s|le\s|el\s|il\s",
    re.IGNORECASE,
)
_UPDATE_WORDS = re.compile(
    r"aktualisiert|geändert|updated|modified|mis à jour|actualizado|aggiornato|bijgewerkt",
    re.IGNORECASE,
)


def text_date(text: str) -> str | None:
    """The first date written out in a sentence ("am 27. August 2023 um 14:30", "August 27,
    2023", "27.08.2023"), as naive ISO 8601; None when there is none. A date that follows an
    update word ("Aktualisiert am ...", "updated on ...") is not taken."""
    best: tuple[int, str] | None = None
    for pattern in _TEXT_DATES:
        for m in pattern.finditer(text):
            if _UPDATE_WORDS.search(text[max(0, m.start() - 30) : m.start()]):
                continue
            month = m["month"]
            number = int(month) if month.isdigit() else _MONTHS.get(month.lower().rstrip("."))
            try:
                dt = datetime(int(m["year"]), number or 0, int(m["day"]))
            except (ValueError, TypeError):
                continue
            if m["hour"]:
                hour = int(m["hour"])
                if m["ampm"]:
                    hour = hour % 12 + (12 if m["ampm"].lower().startswith("p") else 0)
                dt = dt.replace(hour=hour, minute=int(m["minute"]))
            value = dt.isoformat() if m["hour"] else dt.date().isoformat()
            if best is None or m.start() < best[0]:
                best = (m.start(), value)
            break
    return best[1] if best else None


def _sentence_date(scope: etree._Element, tree: etree._Element) -> str | None:
    """A publication date the theme prints only as words in the post's byline or footer
    ("Dieser Beitrag wurde am 27. August 2023 von Anna veröffentlicht"): text of the post's
    element outside its content, comments and sidebars; a sentence with a publishing word
    first, never one about an update."""
    fallback = None
    for el in scope.iter(etree.Element):
        if el.tag in _SKIP_TEXT_TAGS or el.tag in ("a", "p") and el.getparent() is None:
            continue
        own = norm_ws(" ".join(t for t in [el.text, *(c.tail for c in el)] if t))
        if not own or not any(ch.isdigit() for ch in own) or len(own) > 400:
            continue
        if any(a.get("itemprop") == "articleBody" or _tokens(a) & _CONTENT_TOKENS
               for a in chain((el,), el.iterancestors())) or is_excluded(el):  # fmt: skip
            continue
        sentence = _text(el) if len(_text(el)) <= 400 else own
        found = text_date(sentence)
        if not found:
            continue
        if _PUBLISH_WORDS.search(sentence):
            return found
        fallback = fallback or found
    return fallback if scope is not tree else None


# --------------------------------------------------------------------------- JSON-LD

_ARTICLE_TYPES = frozenset(
    {
        "article",
        "blogposting",
        "newsarticle",
        "techarticle",
        "report",
        "scholarlyarticle",
        "socialmediaposting",
        "liveblogposting",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reportagenewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "posting",
        "discussionforumposting",
        "medicalscholarlyarticle",
        "advertisercontentarticle",
        "satiricalarticle",
        "howto",
        "recipe",
        "review",
    }
)
_PAGE_TYPES = frozenset(
    {
        "webpage",
        "itempage",
        "aboutpage",
        "collectionpage",
        "profilepage",
        "qapage",
        "faqpage",
        "contactpage",
        "medicalwebpage",
    }
)
_JSONLD_XPATH = etree.XPath(
    "//script[translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    " = 'application/ld+json']"
)


def _types(obj: dict) -> set[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {v.rsplit("/", 1)[-1].lower() for v in values if isinstance(v, str)}


def jsonld_items(tree: etree._Element) -> list[dict]:
    """Every top-level JSON-LD object of the page (lists and ``@graph`` flattened)."""
    items: list[dict] = []
    for script in _JSONLD_XPATH(tree):
        raw = (script.text or "").strip()
        if not raw:
            continue
        raw = re.sub(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$", "", raw).strip()
        try:
            data = json.loads(raw)
        except ValueError:
            try:  # a common breakage: raw control characters inside strings
                data = json.loads(re.sub(r"[\x00-\x1f]+", " ", raw))
            except ValueError:
                continue
        stack = data if isinstance(data, list) else [data]
        for obj in stack:
            if not isinstance(obj, dict):
                continue
            graph = obj.get("@graph")
            if isinstance(graph, list):
                items.extend(o for o in graph if isinstance(o, dict))
                if len(obj) > 2:
                    items.append({k: v for k, v in obj.items() if k != "@graph"})
            else:
                items.append(obj)
    return items


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _resolve(value: Any, index: dict[str, dict]) -> Any:
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in index:
        return index[value["@id"]]
    return value


def _ld_names(value: Any, index: dict[str, dict]) -> list[str]:
    names = []
    for item in _as_list(value):
        item = _resolve(item, index)
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = name[0] if name else None
            if isinstance(name, str):
                names.append(name)
    return [n for n in (norm_ws(x) for x in names) if n]


def _ld_url(value: Any, index: dict[str, dict]) -> str | None:
    for item in _as_list(value):
        item = _resolve(item, index)
        if isinstance(item, str) and item.strip():
            return item.strip()
        if isinstance(item, dict):
            for key in ("url", "contentUrl", "@id"):
                if isinstance(item.get(key), str) and item[key].strip():
                    return item[key].strip()
    return None


def _ld_strings(value: Any, split_commas: bool = False) -> list[str]:
    out: list[str] = []
    for item in _as_list(value):
        if isinstance(item, dict):
            item = item.get("name")
        if isinstance(item, str):
            parts = item.split(",") if split_commas else [item]
            out.extend(norm_ws(p) for p in parts)
    return [x for x in out if x]


def _from_jsonld(tree: etree._Element) -> dict[str, Any]:
    items = jsonld_items(tree)
    if not items:
        return {}
    index = {o["@id"]: o for o in items if isinstance(o.get("@id"), str)}
    articles = [o for o in items if _types(o) & _ARTICLE_TYPES]
    pages = [o for o in items if _types(o) & _PAGE_TYPES]
    out: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if value and key not in out:
            out[key] = value

    for obj in articles + pages:
        is_article = obj in articles
        headline = obj.get("headline") or (obj.get("name") if is_article else None)
        if isinstance(headline, str):
            put("title", norm_ws(headline))
        elif not is_article and isinstance(obj.get("name"), str):
            put("page_title", norm_ws(obj["name"]))
        put("authors", _ld_names(obj.get("author") or obj.get("creator"), index))
        put("published", obj.get("datePublished") or obj.get("dateCreated"))
        put("updated", obj.get("dateModified"))
        if is_article:
            put("categories", _ld_strings(obj.get("articleSection")))
            put("tags", _ld_strings(obj.get("keywords"), split_commas=True))
        if isinstance(obj.get("description"), str):
            put("description", norm_ws(obj["description"]))
        lang = obj.get("inLanguage")
        if isinstance(lang, dict):
            lang = lang.get("alternateName") or lang.get("name")
        if isinstance(lang, str):
            put("declared_language", lang)
        put("image", _ld_url(obj.get("image") or obj.get("thumbnailUrl"), index))
        put("canonical_url", _ld_url(obj.get("mainEntityOfPage"), index) or obj.get("url"))
        publisher = _ld_names(obj.get("publisher"), index)
        site = _ld_names(obj.get("isPartOf"), index)
        put("site_name", (site or publisher or [None])[0])
    for obj in items:
        if "website" in _types(obj):
            put("site_name", (_ld_names(obj, index) or [None])[0])
    if not isinstance(out.get("published"), str):
        out.pop("published", None)
    if not isinstance(out.get("updated"), str):
        out.pop("updated", None)
    if not isinstance(out.get("canonical_url"), str):
        out.pop("canonical_url", None)
    return out


# --------------------------------------------------------------------------- <meta>

_META_XPATH = etree.XPath("//meta[@content][@property or @name or @itemprop or @http-equiv]")

_META_PUBLISHED = (
    "article:published_time",
    "og:published_time",
    "date",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published-date",
    "published_time",
    "article.published",
    "article_date_original",
    "sailthru.date",
    "parsely-pub-date",
    "citation_publication_date",
    "citation_date",
    "originalpublicationdate",
    "date.created",
    "datepublished",
)
_META_UPDATED = (
    "article:modified_time",
    "og:updated_time",
    "dc.date.modified",
    "dcterms.modified",
    "last-modified",
    "lastmod",
    "article.updated",
    "datemodified",
    "revised",
)


def _meta_map(tree: etree._Element) -> dict[str, list[str]]:
    """All ``<meta>`` contents keyed by lowercased property/name/itemprop (outside comments)."""
    found: dict[str, list[str]] = {}
    for meta in _META_XPATH(tree):
        content = meta.get("content")
        if content is None or not content.strip():
            continue
        key = meta.get("property") or meta.get("name") or meta.get("http-equiv")
        if key is None:  # itemprop metas live in the body: skip those of comments/widgets
            if is_excluded(meta):
                continue
            key = meta.get("itemprop")
        for k in key.lower().split():
            found.setdefault(k, []).append(content.strip())
    return found


def _first(meta: dict[str, list[str]], keys: Iterable[str]) -> str | None:
    for key in keys:
        for value in meta.get(key, ()):
            if value:
                return value
    return None


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://", "//", "/"))


# ------------------------------------------------------------------ microformats / microdata

_MF_PROP_XPATH = etree.XPath(
    ".//*[contains(@class, 'p-') or contains(@class, 'dt-') or contains(@class, 'u-')"
    " or contains(@class, 'e-')]"
)


def _mf_value(el: etree._Element, prefix: str) -> str:
    if prefix == "dt":
        for attr in ("datetime", "title", "value", "content"):
            if el.get(attr):
                return el.get(attr, "")
        value = el.xpath(f".//*[{_cls('value')}]")
        return _text(value[0]) if value else _text(el)
    if prefix == "u":
        for attr in ("href", "src", "data"):
            if el.get(attr):
                return el.get(attr, "")
    if el.tag == "img" and el.get("alt"):
        return el.get("alt", "")
    if el.tag in ("abbr", "data") and (el.get("title") or el.get("value")):
        return el.get("title") or el.get("value") or ""
    return _text(el)


def _from_microformats(index: PageIndex) -> dict[str, Any]:
    root = next((e for e in index.classed("h-entry") if not is_excluded(e)), None)
    if root is None:
        return {}
    props: dict[str, list[etree._Element]] = {}
    for el in _MF_PROP_XPATH(root):
        # the property must belong to this h-entry, not to a nested h-* (comment, h-card, ...)
        owner = next(
            (a for a in el.iterancestors() if any(t.startswith("h-") for t in _tokens(a))), None
        )
        if owner is not root:
            continue
        for tok in el.get("class", "").split():
            if tok.startswith(("p-", "dt-", "u-", "e-")):
                props.setdefault(tok, []).append(el)
    out: dict[str, Any] = {}
    if "p-name" in props:
        out["title"] = _mf_value(props["p-name"][0], "p")
    authors = []
    for el in props.get("p-author", []) + props.get("u-author", []):
        if "h-card" in el.get("class", "").split():
            names = el.xpath(f".//*[{_cls('p-name')}]")
            authors.append(_mf_value(names[0], "p") if names else _text(el))
        else:
            authors.append(_mf_value(el, "p"))
    out["authors"] = [a for a in (norm_ws(x) for x in authors) if a and not _is_url(a)]
    for key, prop in (("published", "dt-published"), ("updated", "dt-updated")):
        if prop in props:
            out[key] = _mf_value(props[prop][0], "dt")
    if "p-summary" in props:
        out["description"] = _mf_value(props["p-summary"][0], "p")
    photo = props.get("u-photo") or props.get("u-featured")
    if photo:
        out["image"] = _mf_value(photo[0], "u")
    cats = [norm_ws(_mf_value(e, "p")) for e in props.get("p-category", [])]
    out["categories_mixed"] = [c for c in cats if c and not c.startswith("@")]
    return {k: v for k, v in out.items() if v}


_MICRODATA_ROOT_XPATH = etree.XPath(
    "//*[@itemscope][contains(@itemtype, 'schema.org/') and (contains(@itemtype, 'Article')"
    " or contains(@itemtype, 'Posting') or contains(@itemtype, 'WebPage'))]"
)


def _from_microdata(tree: etree._Element) -> dict[str, Any]:
    root = next((e for e in _MICRODATA_ROOT_XPATH(tree) if not is_excluded(e)), None)
    if root is None:
        return {}
    props: dict[str, list[etree._Element]] = {}
    for el in root.xpath(".//*[@itemprop]"):
        owner = next((a for a in el.iterancestors() if a.get("itemscope") is not None), None)
        if owner is root:
            for name in el.get("itemprop", "").split():
                props.setdefault(name, []).append(el)

    def value(el: etree._Element) -> str:
        for attr in ("content", "datetime", "href", "src"):
            if el.get(attr):
                return el.get(attr, "").strip()
        return _text(el)

    out: dict[str, Any] = {}
    if "headline" in props:
        out["title"] = value(props["headline"][0])
    authors = []
    for el in props.get("author", []) + props.get("creator", []):
        if el.get("itemscope") is not None:
            names = [n for n in el.xpath(".//*[@itemprop='name']")]
            authors.append(value(names[0]) if names else _text(el))
        else:
            authors.append(value(el))
    out["authors"] = [a for a in (norm_ws(x) for x in authors) if a and not _is_url(a)]
    for key, prop in (("published", "datePublished"), ("updated", "dateModified")):
        if prop in props:
            out[key] = value(props[prop][0])
    if "articleSection" in props:
        out["categories"] = _dedupe(value(e) for e in props["articleSection"])
    if "keywords" in props:
        out["tags"] = _dedupe(
            norm_ws(k) for e in props["keywords"] for k in value(e).split(",") if norm_ws(k)
        )
    if "image" in props:
        out["image"] = value(props["image"][0])
    return {k: v for k, v in out.items() if v}


# --------------------------------------------------------------------------- visible byline


class PageIndex:
    """One pass over the tree: its elements by class token, in document order.

    Looking elements up here is several times cheaper than ``//*[contains(@class, ...)]``.
    """

    __slots__ = ("tree", "by_class", "pos")

    def __init__(self, tree: etree._Element) -> None:
        self.tree = tree
        self.by_class: dict[str, list[etree._Element]] = {}
        self.pos: dict[etree._Element, int] = {}
        by_class, pos = self.by_class, self.pos
        for i, el in enumerate(tree.iter(etree.Element)):
            classes = el.get("class")
            if classes:
                pos[el] = i
                for tok in set(classes.split()):
                    by_class.setdefault(tok, []).append(el)

    def classed(self, *tokens: str) -> list[etree._Element]:
        """Elements carrying any of ``tokens``, in document order."""
        lists = [self.by_class[t] for t in tokens if t in self.by_class]
        if not lists:
            return []
        if len(lists) == 1:
            return list(lists[0])
        merged = {el: None for lst in lists for el in lst}
        return sorted(merged, key=self.pos.__getitem__)


def _within(el: etree._Element, root: etree._Element) -> bool:
    return any(a is root for a in el.iterancestors())


def _select(
    elements: Iterable[etree._Element], scope: etree._Element, tree: etree._Element
) -> list[etree._Element]:
    """``elements`` inside the post scope (else anywhere), minus sidebars, comments etc."""
    candidates = [e for e in elements if not is_excluded(e)]
    if scope is not tree:
        inside = [e for e in candidates if _within(e, scope)]
        if inside:
            return inside
    return candidates


_SCOPE_XPATHS = [
    etree.XPath(
        "//article["
        + " or ".join(_cls(c) for c in ("hentry", "type-post", "type-page", "post", "h-entry"))
        + "]"
    ),
    etree.XPath("//main | //*[@role='main']"),
    etree.XPath("//article"),
]


def _scope(tree: etree._Element) -> etree._Element:
    """The element that holds the post: its ``<article>``, else ``<main>``, else the document."""
    for xp in _SCOPE_XPATHS:
        for el in xp(tree):
            if not is_excluded(el):
                return el
    return tree


def _tokens(el: etree._Element) -> set[str]:
    return set(el.get("class", "").split())


def _rel(el: etree._Element) -> list[str]:
    return el.get("rel", "").lower().split()


_TITLE_CLASSES = (
    "entry-title",
    "wp-block-post-title",
    "post-title",
    "p-name",
    "article-title",
    "single-title",
    "page-title",
    "headline",
)
_SITE_CLASSES = ("site-title", "wp-block-site-title", "site-name", "blog-title")
_BLOCK_AUTHOR_CLASSES = ("wp-block-post-author__name", "wp-block-post-author-name")
_BYLINE_CLASSES = (
    "post-info",
    "entry-info",
    "article-info",
    "article-meta",
    "byline",
    "posted-by",
    "entry-meta",
    "post-meta",
    "entry-byline",
    "post-byline",
    "meta-author",
)
_AUTHOR_NAME_CLASSES = (
    "entry-author-name",
    "post-author-name",
    "author-name",
    "byline-author",
    "article-author",
)
_AUTHOR_BIO_CLASSES = ("author-bio", "author-info", "author-box")
_AUTHOR_BAD = re.compile(
    r"e-?mail|mailto|view all|all posts|alle beiträge|beiträge von|posts by|more (?:from|by)|"
    r"mehr von|articles by|profile|anzeigen|website|http|www\.|@|\d{4}",
    re.IGNORECASE,
)
_AUTHOR_PREFIX = re.compile(
    r"^(?:(?:posted|written|published|geschrieben|verfasst|veröffentlicht)\s+(?:by|von)|by|von|"
    r"par|por|door|przez|autor(?:in)?|author|auteur|verfasser)\s*:?\s+",
    re.IGNORECASE,
)


def _clean_author(name: str, byline: bool = False, max_words: int = 6) -> str | None:
    """A plausible person/organisation name, or None ("Email the author", URLs, ...).
    ``byline``: the text is a visible byline, so "By "/"Von " prefixes are dropped."""
    name = norm_ws(name)
    if byline:
        name = _AUTHOR_PREFIX.sub("", name)
    name = name.strip(" ,;:|–—-")
    if not name or len(name) > 80 or len(name.split()) > max_words or _AUTHOR_BAD.search(name):
        return None
    return name


def _author_from_bio(bio: etree._Element) -> str | None:
    """Author box "By NAME" + "View all of NAME's posts": NAME is the longest tail of the
    heading that the archive link repeats (works whatever the site's language)."""
    heading = [
        e
        for e in bio.iter(etree.Element)
        if e.tag in ("h2", "h3", "h4", "h5") or "author-title" in _tokens(e)
    ]
    links = [a for a in bio.iter("a") if "author" in _rel(a) or "author-link" in _tokens(a)]
    if not heading:
        return None
    words = _text(heading[0]).split()
    link_text = " ".join(_text(a) for a in links)
    for i in range(len(words)):
        candidate = " ".join(words[i:])
        if link_text and candidate in link_text:
            return _clean_author(candidate)
    return _clean_author(" ".join(words), byline=True) if not links else None


def _byline_authors(index: PageIndex, scope: etree._Element) -> list[str]:
    tree = index.tree

    def names(elements: Iterable[etree._Element], max_words: int = 6) -> list[str]:
        found = (_clean_author(_text(e), True, max_words) for e in _select(elements, scope, tree))
        return _dedupe(n for n in found if n)

    # block themes (WordPress 6.1 post-author, 6.2+ post-author-name)
    found = names(index.classed(*_BLOCK_AUTHOR_CLASSES))
    if found:
        return found
    # classic themes and most engines: the author link/name inside the byline
    in_byline = []
    for box in index.classed(*_BYLINE_CLASSES):
        for el in box.iter(etree.Element):
            toks = _tokens(el)
            if (
                ("author" in toks and toks & {"vcard", "h-card"})
                or "fn" in toks
                or (el.tag == "a" and "author" in _rel(el))
            ):
                in_byline.append(el)
    found = names(in_byline) or names(index.classed(*_AUTHOR_NAME_CLASSES))
    if found:
        return found
    for bio in _select(index.classed(*_AUTHOR_BIO_CLASSES), scope, tree):
        name = _author_from_bio(bio)
        if name:
            return [name]
    return names((a for a in tree.iter("a") if "author" in _rel(a)), max_words=4)


_PUBLISHED_CLASSES = frozenset({"published", "entry-date", "dt-published"})
_DATE_BOX_CLASSES = (
    "posted-on",
    "entry-meta",
    "post-meta",
    "byline",
    "entry-date",
    "post-date",
    "entry-header",
    "article-meta",
    "meta-date",
    "date",
)


def _date_value(el: etree._Element) -> str | None:
    value = el.get("datetime") or el.get("content") or el.get("title")
    return value if value and parse_datetime(value) else None


def _byline_dates(index: PageIndex, scope: etree._Element) -> dict[str, str]:
    tree = index.tree
    out: dict[str, str] = {}
    published: list[etree._Element] = []
    updated: list[etree._Element] = []
    for el in tree.iter("time"):
        toks = _tokens(el)
        prop = el.get("itemprop")
        if toks & _PUBLISHED_CLASSES or prop == "datePublished":
            published.append(el)
        if toks & {"updated", "dt-updated"} or prop == "dateModified":
            updated.append(el)
    for box in index.classed("wp-block-post-date"):
        target = updated if "wp-block-post-date__modified-date" in _tokens(box) else published
        target.extend(box.iter("time"))
    published.extend(e for e in index.classed("published") if e.tag != "time")
    published.sort(key=lambda e: index.pos.get(e, 0))  # noqa: B023 - evaluated at once
    for key, elements in (("published", published), ("updated", updated)):
        for el in _select(elements, scope, tree):
            value = _date_value(el)
            if value:
                out[key] = value
                break
    if "published" not in out:  # any machine-readable time in a date/meta box of the post
        boxes = _select(index.classed(*_DATE_BOX_CLASSES), scope, tree)
        for box in boxes:
            value = next((v for t in box.iter("time") if (v := _date_value(t))), None)
            if value:
                out["published"] = value
                break
    if "published" not in out and scope is not tree:  # the post's first <time>, outside its text
        for el in _select(scope.iter("time"), scope, tree):
            inside_text = any(_tokens(a) & _CONTENT_TOKENS for a in el.iterancestors())
            value = _date_value(el)
            if value and not inside_text:
                out["published"] = value
                break
    return out


_CAT_CONTAINERS = frozenset(
    {
        "cat-links",
        "taxonomy-category",
        "post-categories",
        "entry-categories",
        "category-links",
        "cat-list",
        "categories",
        "post-category",
        "entry-category",
        "meta-category",
    }
)
_TAG_CONTAINERS = frozenset(
    {
        "tags-links",
        "taxonomy-post_tag",
        "post-tags",
        "entry-tags",
        "tag-links",
        "tag-list",
        "tags",
        "post-tag",
        "meta-tags",
        "tagged",
        "article-tags",
    }
)
_TERM_STOP_TAGS = frozenset({"article", "main", "body", "html", "li"})
_CAT_PATH = re.compile(r"/(?:category|categories|kategorie|categorie|categoria|cat)/")
_TAG_PATH = re.compile(r"/(?:tag|tags|schlagwort|etiqueta|tagged)/")


def _term_kind(a: etree._Element, engine: Engine | None = None) -> str | None:
    """'category', 'tag' or None (not a term link, or another taxonomy) for a link: by its
    container's class, its rel, or (outside the post's text) the engine's term archive URL."""
    for depth, node in enumerate(a.iterancestors()):
        if depth > 4 or node.tag in _TERM_STOP_TAGS:
            break
        tokens = _tokens(node)
        if tokens & _POST_CLASSES:  # the post's own element: its classes are term slugs
            break
        if tokens & _CAT_CONTAINERS:
            return "category"
        if tokens & _TAG_CONTAINERS:
            return "tag"
        if any(t.startswith("taxonomy-") for t in tokens):
            return None  # a custom taxonomy (block themes)
    rel = _rel(a)
    if "tag" not in rel and "category" not in rel:
        return _term_kind_by_url(a, engine)
    parts = urlsplit(a.get("href", ""))
    path, query = parts.path.lower(), parts.query.lower()
    if "category" in rel or _CAT_PATH.search(path) or "cat=" in query:
        return "category"
    if _TAG_PATH.search(path) or "tag=" in query:
        return "tag"
    return "tag"


_CONTENT_TOKENS = frozenset(
    {"entry-content", "post-content", "e-content", "article-entry", "article-content",
     "post-body", "entry-body", "article-body", "wp-block-post-content"}
)  # fmt: skip


_META_BOX = re.compile(r"(?:^|[\s_-])(?:meta|info|byline|footer|header|taxonomy|terms)(?:$|[\s_-])")


def _term_kind_by_url(a: etree._Element, engine: Engine | None) -> str | None:
    """A link to a category or tag archive (the engine's URL shapes) in the post's header or
    footer, not in its text, where authors link whatever they like."""
    path = urlsplit(a.get("href", "")).path
    if not path:
        return None
    kind = None
    for entry in engines_for(engine):
        if match_any(entry.category_paths, path):
            kind = "category"
            break
        if match_any(entry.tag_paths, path):
            kind = "tag"
            break
    if kind is None:
        return None
    for node in a.iterancestors():
        if node.tag in ("footer", "header") or _META_BOX.search(node.get("class", "")):
            return kind  # the post's meta box, even where a theme puts it inside the text
        if node.get("itemprop") == "articleBody" or _tokens(node) & _CONTENT_TOKENS:
            return None
    return kind


_IMAGE_CLASSES = (
    "post-thumbnail",
    "wp-block-post-featured-image",
    "featured-image",
    "entry-thumbnail",
)


def _engine_byline(tree: etree._Element, engine: Engine | None) -> dict[str, list[str]]:
    """The byline fields the engine's table entry locates (`Engine.byline_xpaths`)."""
    out: dict[str, list[str]] = {}
    for key, xpath in (engine.byline_xpaths if engine is not None else {}).items():
        values = []
        for el in tree.xpath(xpath):
            value = el.get("datetime") if key == "published" else _text(el)
            if value and (key != "published" or parse_datetime(value)):
                values.append(norm_ws(value))
        if values:
            out[key] = _dedupe(values)
    return out


def _from_byline(
    index: PageIndex, scope: etree._Element, engine: Engine | None = None
) -> dict[str, Any]:
    tree = index.tree
    out: dict[str, Any] = {}
    titles = _select(index.classed(*_TITLE_CLASSES), scope, tree)
    titles = [t for t in titles if t.tag in ("h1", "h2")]
    titles.sort(key=lambda t: t.tag != "h1")  # an h1 first
    if titles:
        out["title"] = _text(titles[0])
    elif scope is not tree:
        h1s = [h for h in scope.iter("h1") if not is_excluded(h)]
        if len(h1s) == 1:
            out["title"] = _text(h1s[0])

    authors = _byline_authors(index, scope)
    if authors:
        out["authors"] = authors
    engine_byline = _engine_byline(tree, engine)
    if "authors" not in out and engine_byline.get("authors"):
        out["authors"] = engine_byline["authors"]
    out.update(_byline_dates(index, scope))
    if "published" not in out and engine_byline.get("published"):
        out["published"] = engine_byline["published"][0]
    if "published" not in out:
        sentence = _sentence_date(scope, tree)
        if sentence:
            out["published"] = sentence

    terms: dict[str, list[str]] = {"category": [], "tag": []}
    term_links = [(a, kind) for a in tree.iter("a") if (kind := _term_kind(a, engine))]
    kinds = dict(term_links)
    for a in _select(kinds, scope, tree):
        kind = kinds[a]
        name = _text(a)
        if kind and name:
            terms[kind].append(name)
    if terms["category"]:
        out["categories"] = _dedupe(terms["category"])
    if terms["tag"]:
        out["tags"] = _dedupe(terms["tag"])
    for key in ("categories", "tags"):
        if key not in out and engine_byline.get(key):
            out[key] = engine_byline[key]

    for box in _select(index.classed(*_IMAGE_CLASSES), scope, tree):
        img = next(box.iter("img"), None)
        src = img.get("src") or img.get("data-src") if img is not None else None
        if src:
            out["image"] = src
            break
    sites = [t for t in (_text(e) for e in index.classed(*_SITE_CLASSES)) if t]
    if sites:
        out["site_name"] = sites[0]
    return out


# --------------------------------------------------------------------------- title / language

_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—»·•:/~-]|::|--)\s+")


def _strip_site_name(title: str, site_name: str | None) -> str:
    """``Post – Site`` / ``Site | Post`` -> ``Post`` when the site name is known."""
    if not site_name:
        return title
    site = norm_ws(site_name).casefold()
    seps = list(_TITLE_SEPARATOR.finditer(title))
    if not seps:
        return title
    last, first = seps[-1], seps[0]
    if norm_ws(title[last.end() :]).casefold() == site:
        return norm_ws(title[: last.start()]) or title
    if norm_ws(title[: first.start()]).casefold() == site:
        return norm_ws(title[first.end() :]) or title
    return title


@functools.lru_cache(maxsize=1)
def _language_identifier() -> Any:
    """py3langid's model, loaded once per process (about 0.5 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


_CONTENT_CLASSES = (
    "entry-content",
    "wp-block-post-content",
    "e-content",
    "post-content",
    "article-content",
    "post-body",
    "entry-body",
    "article-body",
)
_TEXT_NODES = etree.XPath(
    ".//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
)
_LANG_SAMPLE = 1500
_NON_LETTERS = re.compile(r"[\W\d_]+")
_DECLARED_PRIOR = 20.0  # how much more likely the declared language is, a priori


def _primary_subtag(lang: str | None) -> str | None:
    if not lang:
        return None
    code = re.split(r"[-_]", lang.strip())[0].lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _body_text(index: PageIndex, scope: etree._Element) -> str:
    """A sample of the post's own text: its content element, else the post scope."""
    for el in _select(index.classed(*_CONTENT_CLASSES), scope, index.tree):
        return _text_sample(el)
    return _text_sample(scope)


def _text_sample(el: etree._Element) -> str:
    """The first `_LANG_SAMPLE` characters of the element's text, reading no further."""
    parts: list[str] = []
    size = 0
    for text in _TEXT_NODES(el):
        parts.append(text)
        size += len(text)
        if size >= 2 * _LANG_SAMPLE:
            break
    return norm_ws(" ".join(parts))[:_LANG_SAMPLE]


def _detect_language(text: str, declared: str | None) -> tuple[str | None, bool]:
    """(language, detected?): py3langid with the declared language as a prior."""
    if len(_NON_LETTERS.sub("", text[:200])) < 12:
        return declared, False
    ranked = _language_identifier().rank(text)
    if not ranked:
        return declared, False
    scores = dict(ranked)
    if declared and declared in scores:
        weighted = {k: v * (_DECLARED_PRIOR if k == declared else 1.0) for k, v in scores.items()}
        best = max(weighted, key=weighted.__getitem__)
    else:
        best = ranked[0][0]
        if scores[best] < 0.5 and declared:
            return declared, False
    if best == declared:
        return best, False
    return _primary_subtag(best) or best, True


# --------------------------------------------------------------------------- main entry point

#: Which source wins for which field, best first (the first that has a plausible value).
#: `byline` is the page's visible post header/footer, reported as `html` for titles, site
#: names and images; `feed`/`sitemap` are the crawl's hints; dates fall back on a dated
#: permalink (`url`) and `htmldate`. Terms follow their own rule (`_taxonomy`): the post's
#: visible term links first. `sources` in each record names the winner of each field.
SOURCE_ORDER: dict[str, tuple[str, ...]] = {
    "site_name": ("opengraph", "json-ld", "meta", "byline"),
    "title": ("json-ld", "opengraph", "microformats", "microdata", "byline", "title-tag", "feed"),
    "authors": ("json-ld", "microformats", "microdata", "meta", "byline", "opengraph", "feed"),
    "published": ("json-ld", "opengraph", "microformats", "microdata", "meta", "byline",
                  "feed", "url", "htmldate"),
    "updated": ("json-ld", "opengraph", "microformats", "microdata", "meta", "byline",
                "feed", "sitemap"),
    "categories": ("byline", "microformats", "json-ld", "microdata", "opengraph", "feed"),
    "tags": ("byline", "json-ld", "opengraph", "microdata", "feed"),
    "description": ("json-ld", "opengraph", "meta", "microformats"),
    "image": ("opengraph", "json-ld", "meta", "microformats", "microdata", "byline"),
    "canonical_url": ("html", "opengraph", "json-ld"),
}  # fmt: skip


def extract_metadata(
    tree: lxml_html.HtmlElement, url: str, hints: Hints | None = None
) -> dict[str, Any]:
    """The post's metadata, and in ``sources`` which source won for each field.

    Keys: title, authors, published, updated (ISO 8601 with offset or None), categories, tags,
    language (ISO 639-1), description, site_name, image, canonical_url (absolute), sources.
    """
    hints = hints or Hints()
    scope = _scope(tree)
    index = PageIndex(tree)
    engine = detect_engine(tree)
    meta = _meta_map(tree)
    found: dict[str, dict[str, Any]] = {
        "json-ld": _from_jsonld(tree),
        "opengraph": _opengraph(meta),
        "microformats": _from_microformats(index),
        "microdata": _from_microdata(tree),
        "meta": _plain_meta(meta),
        "byline": _from_byline(index, scope, engine),
    }
    order = [name for name in SOURCE_ORDER["published"] if name in found]
    sources: dict[str, str] = {}
    result: dict[str, Any] = {}

    def pick(field: str, names: Iterable[str], check: Callable[[Any], Any] = bool) -> Any:
        for name in names:
            value = found.get(name, {}).get(field)
            if value and check(value):
                sources[field] = name
                return value
        return None

    # site name first: it is needed to clean titles
    site_name = pick("site_name", SOURCE_ORDER["site_name"])
    if site_name and sources.get("site_name") == "byline":
        sources["site_name"] = "html"
    result["site_name"] = site_name

    # title
    title = pick("title", SOURCE_ORDER["title"])
    if title:
        title = _strip_site_name(title, site_name)
        if sources["title"] == "byline":
            sources["title"] = "html"
    else:
        raw = found["json-ld"].get("page_title")
        tag = tree.find(".//title")
        if raw:
            title, sources["title"] = _strip_site_name(raw, site_name), "json-ld"
        elif tag is not None and _text(tag):
            title, sources["title"] = _strip_site_name(_text(tag), site_name), "title-tag"
        elif hints.title:
            title, sources["title"] = norm_ws(hints.title), "feed"
    result["title"] = title or None

    # authors
    authors = pick(
        "authors",
        SOURCE_ORDER["authors"],
        check=lambda v: [a for a in v if _clean_author(a)],
    )
    authors = _dedupe(a for a in (_clean_author(x) for x in authors or []) if a)
    if not authors and hints.authors:
        authors, sources["authors"] = _dedupe(norm_ws(a) for a in hints.authors if a), "feed"
    result["authors"] = authors

    # dates
    for field, hint_values in (
        ("published", [(hints.published, "feed")]),
        ("updated", [(hints.updated, "feed"), (hints.lastmod, "sitemap")]),
    ):
        value, source = _pick_date(found, order, field, hint_values, url, engine)
        if value is None and field == "published":
            value, source = _htmldate(tree, scope, url, engine)
        result[field] = iso_aware(value)
        if value is not None and source:
            sources[field] = source

    # taxonomy: the post's own term links win; structured data only where the page links no
    # terms, and a section (article:section, articleSection) only where something confirms it
    feed_terms = _dedupe(norm_ws(c) for c in hints.categories if c and norm_ws(c))
    cats, tags = _taxonomy(found, meta, feed_terms, sources, url)
    result["categories"] = _dedupe(cats)
    result["tags"] = _dedupe(tags)

    # language
    declared_source = "html-lang"
    root = tree.getroottree().getroot()
    declared = _primary_subtag(
        root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    )
    if not declared:
        for name, value in (
            ("json-ld", found["json-ld"].get("declared_language")),
            ("meta", _first(meta, ["content-language", "language", "dc.language"])),
            ("opengraph", _first(meta, ["og:locale"])),
        ):
            declared = _primary_subtag(value)
            if declared:
                declared_source = name
                break
    language, detected = _detect_language(_body_text(index, scope), declared)
    result["language"] = language
    if language:
        sources["language"] = "langid" if detected else declared_source

    result["description"] = pick("description", SOURCE_ORDER["description"])

    image = pick("image", SOURCE_ORDER["image"])
    if image and sources.get("image") == "byline":
        sources["image"] = "html"
    result["image"] = urljoin(url, image) if image else None

    canonical = None
    for link in tree.iter("link"):
        href = (link.get("href") or "").strip()
        if href and "canonical" in _rel(link):
            canonical, sources["canonical_url"] = href, "html"
            break
    if canonical is None:
        canonical = pick("canonical_url", SOURCE_ORDER["canonical_url"][1:])
    result["canonical_url"] = urljoin(url, canonical) if canonical else None
    if result["canonical_url"] and not result["canonical_url"].startswith(("http://", "https://")):
        result["canonical_url"] = None
        sources.pop("canonical_url", None)

    result["sources"] = sources
    return result


def _taxonomy(
    found: dict[str, dict[str, Any]],
    meta: dict[str, list[str]],
    feed_terms: list[str],
    sources: dict[str, str],
    url: str,
) -> tuple[list[str], list[str]]:
    """(categories, tags) and their `sources`. Order: the visible term links of the post
    (both fields, even when one is empty), the microformats' mixed `p-category` list, the
    feed item's categories; structured-data sections and keywords only when the page links
    no terms. A section that names a directory of the URL (Hugo's `posts`) is no category;
    `article:section` counts only when the feed confirms it; a page OpenGraph types
    `website` has no tags (its keyword list is the site's)."""
    byline = found["byline"]
    if byline.get("categories") or byline.get("tags"):
        sources.update({k: "byline" for k in ("categories", "tags") if byline.get(k)})
        cats, tags = byline.get("categories") or [], byline.get("tags") or []
        rest = [t for t in feed_terms if t.casefold() not in {c.casefold() for c in cats}]
        if cats and not tags and rest:  # a theme that prints categories only
            tags, sources["tags"] = rest, "feed"
        return cats, tags
    mixed = found["microformats"].get("categories_mixed") or []
    if mixed:
        sources["categories"] = "microformats"
        return mixed, []
    known = {t.casefold() for t in feed_terms}
    segments = {_slug(p) for p in urlsplit(url).path.split("/") if p}
    cats: list[str] = []
    for name in ("json-ld", "microdata", "opengraph"):
        values = [c for c in found[name].get("categories") or [] if _slug(c) not in segments]
        if name == "opengraph":  # article:section: only when confirmed
            values = [c for c in values if c.casefold() in known]
        if values:
            cats, sources["categories"] = values, name
            break
    tags: list[str] = []
    site_wide = _first(meta, ["og:type"]) in ("website", "blog", "profile")
    if not site_wide:
        for name in ("json-ld", "opengraph", "microdata"):
            if found[name].get("tags"):
                tags, sources["tags"] = found[name]["tags"], name
                break
    if feed_terms and not cats and not tags:
        cats, sources["categories"] = feed_terms, "feed"
    elif feed_terms and cats and not tags:
        rest = [t for t in feed_terms if t.casefold() not in {c.casefold() for c in cats}]
        if rest:
            tags, sources["tags"] = rest, "feed"
    return cats, tags


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-")


def _opengraph(meta: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": _first(meta, ["og:title"]),
        "description": _first(meta, ["og:description"]),
        "site_name": _first(meta, ["og:site_name"]),
        "image": _first(meta, ["og:image", "og:image:url", "og:image:secure_url"]),
        "canonical_url": _first(meta, ["og:url"]),
        "published": _first(meta, ["article:published_time", "og:published_time"]),
        "updated": _first(meta, ["article:modified_time", "og:updated_time"]),
        "categories": _dedupe(norm_ws(x) for x in meta.get("article:section", []) if norm_ws(x)),
        "tags": _dedupe(norm_ws(x) for x in meta.get("article:tag", []) if norm_ws(x)),
        "authors": [
            norm_ws(a)
            for a in meta.get("article:author", []) + meta.get("og:article:author", [])
            if not _is_url(a)
        ],
    }
    return {k: v for k, v in out.items() if v}


def _plain_meta(meta: dict[str, list[str]]) -> dict[str, Any]:
    authors = meta.get("author", []) or meta.get("dc.creator", []) or meta.get("parsely-author", [])
    out: dict[str, Any] = {
        "authors": [norm_ws(a) for a in authors if not _is_url(a)],
        "description": _first(meta, ["description", "dc.description", "twitter:description"]),
        "published": _first(meta, _META_PUBLISHED),
        "updated": _first(meta, _META_UPDATED),
        "image": _first(meta, ["twitter:image", "twitter:image:src", "thumbnail"]),
        "site_name": _first(meta, ["application-name", "twitter:site:name"]),
    }
    return {k: v for k, v in out.items() if v}


def _pick_date(
    found: dict[str, dict[str, Any]],
    order: list[str],
    field: str,
    hint_values: list[tuple[str | None, str]],
    url: str,
    engine: Engine | None = None,
) -> tuple[datetime | None, str | None]:
    """The first plausible date of ``field`` by source order, made timezone-aware if a hint
    proves which offset a naive page date has; then the hints, then the URL."""
    hints = [(parse_datetime(v), name) for v, name in hint_values if v]
    hints = [(dt, name) for dt, name in hints if dt is not None]
    naive: tuple[datetime, str] | None = None
    for name in order:
        dt = parse_datetime(found[name].get(field))
        if dt is None or not _not_future(dt):
            continue
        if dt.tzinfo is not None:
            return dt, name
        for hint, _hint_name in hints:
            fixed = _reconcile(dt, hint)
            if fixed is not None:
                return fixed, name
        if naive is None:
            naive = (dt, name)
    for hint, hint_name in hints:
        if hint.tzinfo is not None:
            return hint, hint_name
    if naive is not None:
        return naive
    if hints:
        return hints[0]
    if field == "published":  # a full date in the engine's dated permalink only
        found_date = url_date(urlsplit(url).path, engine)
        if found_date and found_date[2] is not None:
            try:
                return datetime(*found_date, tzinfo=timezone.utc), "url"  # type: ignore[misc]
            except ValueError:
                pass
    return None, None


def _htmldate(
    tree: etree._Element, scope: etree._Element, url: str, engine: Engine | None = None
) -> tuple[datetime | None, str | None]:
    """Last resort: htmldate on the post's own element (a copy; never sidebars or comments).
    Its date must agree with the year/month of the URL when the URL has them."""
    try:
        from htmldate import find_date
    except ImportError:  # pragma: no cover - htmldate is a dependency
        return None, None
    target = scope if scope is not tree else tree
    try:
        found = find_date(
            target,
            original_date=True,  # no url: its digits are a date only in a dated permalink
            extensive_search=False,
            outputformat="%Y-%m-%dT%H:%M:%S",
        )
    except Exception:  # htmldate raises many kinds of errors on odd input
        return None, None
    dt = parse_datetime(found) if found else None
    if dt is None or not _not_future(dt):
        return None, None
    permalink = url_date(urlsplit(url).path, engine)
    if permalink and (dt.year, dt.month) != permalink[:2]:
        return None, None
    return dt, "htmldate"


def iter_jsonld_of_type(tree: etree._Element, types: set[str]) -> Iterator[dict]:
    """JSON-LD objects of one of ``types`` (lowercase schema.org names), nested ones too."""
    stack: list[Any] = list(jsonld_items(tree))
    while stack:
        obj = stack.pop(0)
        if isinstance(obj, list):
            stack[:0] = obj
        elif isinstance(obj, dict):
            if _types(obj) & types:
                yield obj
            else:
                stack[:0] = [v for v in obj.values() if isinstance(v, (dict, list))]
