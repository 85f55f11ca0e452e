"""Article body extraction: the post's text alone, as plain text and as Markdown.

Two candidates, both working on copies (the caller's tree is never touched):

1. CMS content container. Most blog engines wrap the post body in a well-known element
   (schema.org ``articleBody``, microformats ``e-content``, WordPress ``.entry-content`` /
   ``.wp-block-post-content``, ``.post-content``, ``.post-body`` ...). A copy of it is
   cleaned with structural rules (comment sections, forms, share bars, author boxes, related
   posts, ads, link-dense blocks) and rendered directly. Unless it holds most of the page's
   text, trafilatura's body of the page is a second opinion, and `choose_candidate` decides
   on evidence (shingle overlap, where the container starts in trafilatura's body, their
   sizes, whether the container sits right below the title or is one of many alike).
2. Without a container, trafilatura (comments off, tables and formatting on) extracts from a
   copy of the page that went through the same cleanup (and from the page as it is when that
   finds little), and its output tree is rendered the same way.

Both results then lose a leading title line and short boilerplate lines (share prompts,
"Advertisements", comment-form notes) that no structure marked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from functools import lru_cache

import lxml.html
import trafilatura
from lxml import etree

from crawler.extract.markdown import (
    Block,
    _md_escape,
    blocks_to_markdown,
    blocks_to_text,
    norm_ws,
    render_blocks,
)
from crawler.extract.profile import learned_blocks

__all__ = ["Body", "extract_body"]


@dataclass
class Body:
    text: str  # blocks separated by "\n\n"; pre/code keep their line breaks
    markdown: str
    removed: list[str] = field(default_factory=list)  # texts dropped as learned site boilerplate
    guarded: bool = False  # learned boilerplate was found but kept: it was most of the body


# -- what a content container looks like --------------------------------------------------

_CONTAINER_CLASS = re.compile(
    r"^(?:(?:entry|post|article|story|blog-?post|single-?post|single|td-post)"
    r"[-_]?(?:content|body|text|entry)|e-content|wp-block-post-content|article__body"
    r"|article__content|post__content|post__body|entry__content|articlebody|field--name-body"
    r"|field-name-body|gh-content|blog-content|storycontent|postbody|post-inner)$",
    re.I,
)
_CONTAINER_TAGS = frozenset({"div", "section", "article", "main", "td"})
_CONTAINER_XPATH = etree.XPath(
    "//*[@itemprop='articleBody' or @itemprop='articlebody' or @class or @id]"
)

# -- what boilerplate looks like (class/id words) ------------------------------------------

_BOILER_WORDS = (
    r"comments?|comment-?(?:list|respond|form|area|section|wrap|wrapper|thread|count|link)s?"
    r"|commentlist|respond|discussion|disqus(?:_thread)?|replies|reply-title|pingbacks?|trackbacks?"
    r"|share|sharing|shares|sharebar|share-?buttons?|sharedaddy|shariff|addtoany|a2a_kit|social"
    r"|social-?(?:links|icons|share|media|buttons?)|socials|likes?|jp-relatedposts|likebox"
    r"|related|related-?(?:posts?|articles?|content|stories)|yarpp|crp_related|more-?posts"
    r"|author-?(?:bio|box|info|card|profile|description|meta|details)|about-?(?:the-)?author"
    r"|authorbox|(?:extended-?)?bio|byline|post-?author|entry-?author|vcard|avatar"
    r"|ads?|advert|adverts|advertising|advertisement|sponsor(?:ed)?|wordads|wpcnt|adsbygoogle"
    r"|ad-?(?:slot|unit|container|wrapper|banner)|banner|promo|newsletter|subscribe"
    r"|subscription|signup|sign-up|login|log-?in|register|membership|cta|widget"
    r"|entry-?meta|post-?meta|meta|postmetadata|entry-?footer|post-?footer|entry-?utility"
    r"|cat-?links|tags?-?links|post-?tags|post-?categories|tags|tagcloud|categories"
    r"|nav|navigation|pagination|breadcrumbs?|post-?navigation|pager|toc-?toggle"
    r"|screen-?reader-?text|sr-only|visually-?hidden|hidden|print-?only|noprint|skip-?link"
    r"|popup|modal|cookie|consent|gdpr|rating|reactions?|feedback|follow|print"
    r"|credits?|(?:photo|image|media|caption)-?credits?"
)
_BOILER_PREFIX = re.compile(
    r"^(?:share|sharing|social|related|comment|advert|sponsor|newsletter|promo|outbrain|taboola)",
    re.I,
)
_BOILER_TOKEN = re.compile(
    rf"^(?:(?:wp-block|jp|js|c|m|o|u|post|entry|article|single|site|td|blog|the)(?:[-_]|__))?"
    rf"(?:{_BOILER_WORDS})(?:(?:[-_]|__|--)(?:area|section|wrapper|wrap|container|box|block|list|bar"
    rf"|links?|buttons?|icons?|widget|module|title|form|count|text|tools|top|bottom|inner"
    rf"|outer|holder|panel|items?|footer|header|\d+))*$",
    re.I,
)
_BOILER_TAGS = frozenset({"nav", "aside", "form", "footer", "header", "menu", "dialog"})
_COMMENT_TOKEN = re.compile(
    r"comment|respond|discussion|disqus|repl(?:y|ies)|pingback|trackback", re.I
)
_STATE_PREFIX = re.compile(r"^(?:has|no|is|with|show|single|page|template|post-type)[-_]", re.I)
_COMMENT_TYPES = re.compile(r"schema\.org/(?:Comment|UserComments)", re.I)

# -- short lines that are never article text (generic CMS/plugin strings, DE/EN) ----------

_BOILER_LINE = re.compile(
    r"^(?:advertisements?|anzeigen?|werbung|sponsored|share this:?|teilen mit:?|teilen:?"
    r"|sharing:?|share:?|like this:?|gefällt mir:?|related(?: posts| articles)?:?"
    r"|ähnliche beiträge:?|verwandte beiträge:?|(?:das )?könnte (?:dich|sie) auch interessieren:?"
    r"|you (?:may|might) also like:?|weiterlesen|read more|mehr lesen|continue reading.*"
    r"|(?:\d+|keine|no|ein|eine|one) (?:kommentare?|comments?|antworten|antwort|responses?"
    r"|thoughts?|gedanken)(?: (?:zu|on|to) .*)?|schreibe einen kommentar.*|kommentar verfassen"
    r"|leave a (?:reply|comment).*|hinterlasse einen kommentar.*|(?:deine|ihre|your) e-?mail"
    r"(?:-adresse| address)? (?:wird|will) (?:nicht|not|never) .*|erforderliche felder .*"
    r"|required fields are marked.*|(?:share|teilen)(?: this)? (?:on|auf|via|bei) \w+.*"
    r"|tweet(?: about this| this)?(?: on twitter)?|pin it|print|drucken|e-?mail"
    r"|(?:copyright|©|\(c\)).{0,120}(?:all rights reserved|alle rechte vorbehalten)\.?"
    r"|you can follow any responses to this entry through the .{0,40}feed\..{0,200}"
    r"|(?:both comments and pings|responses|comments) are (?:currently )?closed\.?"
    r"|(?:veröffentlicht|posted|published) (?:von|by|in|unter|on):? .{0,80}"
    r"|dieser (?:beitrag|eintrag) wurde (?:unter|am|von) .* veröffentlicht.*"
    r"|this (?:entry|post) was posted in .*|(?:bookmark|lesezeichen) .*permalink.*"
    r"|hier schreibt für sie:?|über den autor:?|about the author:?|tags?:.{0,120}"
    r"|schlagwörter:.{0,120}|kategorien?:.{0,120}|categor(?:y|ies):.{0,120}|filed under:.{0,120}"
    r"|(?:geschätzte )?(?:lesezeit|lesedauer|reading time|read time|temps de lecture)\s*:?\s*"
    r"(?:ca\.?\s*|about\s*|~\s*)?\d+(?:\s*[-–]\s*\d+)?\s*(?:min\.?|minuten?|minutes?|mins?)"
    r"(?: \w+)?|\d+\s*(?:min\.?|minutes?|mins?|minuten)\s+(?:read|lesezeit|lesen|de lecture))$",
    re.I,
)
# news chrome lines: media players, galleries, credits, bylines, dateline-only lines
_CHROME_LINE = re.compile(
    r"^(?:close|video|advert|advertising|caption|subscribe|\d{1,3}|full ?screen|autoplay"
    r"|skip (?:this )?ad|[×✕]|view (?:photos?|gallery|slideshow)|\d{1,3} (?:of|von) \d{1,3}"
    r"|(?:your )?video will (?:play|begin|start) in .{0,20}|inread invented by teads|loading\.*"
    r"|(?:image|media) (?:copyright|caption)\b.{0,150}"
    r"|media playback is (?:unsupported|not supported) on your device\.?"
    r"|(?:last )?(?:updated|aktualisiert|zuletzt aktualisiert)(?: on| at| am| um)?:?"
    r" (?=.*\d)[\w ,.:/-]{1,60}"
    r"|(?:image|photo|slide|bild|foto) \d+ (?:of|von|/)"
    r" ?/? ?\d+|this slideshow requires javascript\.?|(?:photo|image|foto|bild|credit|source"
    r"|quelle)s?: .{0,100}|(?:mon|tue|wed|thu|fri|sat|sun)?[a-z]*,? ?(?:jan|feb|mar|apr|may|jun|jul"
    r"|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}\b.{0,40}|(?:\w+-feira, )?\d{1,2} de \w+ de"
    r" \d{4}\b.{0,20})$",
    re.I,
)
_BYLINE = re.compile(r"^(?:[Bb]y|BY)(?: [A-Z][\w.'’-]*){1,4}$|^@\w+$")
# a heading that announces teasers of other articles: what follows it is not the article
_TEASER_HEAD = re.compile(
    r"^(?:(?:our )?latest (?:stories|news)|you (?:may|might) also like.*|most (?:read|popular).*"
    r"|top stories|related (?:links|stories|articles|posts|coverage)|more (?:from|on) .{0,40}"
    r"|recommended(?: for you| stories)?|trending(?: now| stories)?|read (?:more|next|also)"
    r"|popular (?:stories|posts|articles)|see also|more stories|mehr zum thema"
    r"|(?:posts|articles|stories|beiträge|artikel) (?:related to|zum thema) .{0,80}"
    r"|about the author|über (?:den autor|die autorin)|à propos de l'auteur|sobre el autor)[:.…]*$",
    re.I,
)
_TEASER_TAIL = 0.35  # a teaser heading cuts the rest only when that rest is this small ...
_TEASER_LINKED = 0.6  # ... or when this share of the rest's words are links (a teaser list)
_CREDIT = re.compile(
    r"\b(?:credit|photo(?:graph)?|image|picture|foto|bild)s?(?: by)?\s*:|\(photo\b|getty images"
    r"|\bAP (?:photo|file)\b|[/(]\s*(?:AP|AFP|EPA|Reuters)\b|shutterstock|©",
    re.I,
)
_CAPTION_TOKEN = re.compile(r"(?:^|[-_])caption(?:$|[-_])", re.I)
_SHORT_LINE = 160
_MIN_RAW_WORDS = 10  # a retry on the uncleaned page must find more than a menu
_FEW_WORDS = 80  # trafilatura found this little on our cleaned page: try the page as it is
_RAW_GAIN = 2  # ... and take that when it holds this many times the words


def _tokens(el: etree._Element) -> list[str]:
    return ((el.get("class") or "") + " " + (el.get("id") or "")).split()


_ALNUM = re.compile(r"[\W_]+")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _is_text_slug(el: etree._Element, ident: str) -> bool:
    """An id made from the element's own text: the anchor that Jekyll, Hugo, Hexo and Markdown
    renderers give each heading ("social-media-wird-zum-..."), not a widget's name."""
    slug = _ALNUM.sub("", ident.lower())
    text = _ALNUM.sub("", el.text_content().lower()) if len(slug) >= 8 else ""
    return bool(text) and (text.startswith(slug) or slug.startswith(text))


_POST_MARKERS = frozenset({"hentry", "type-post", "type-page", "status-publish", "h-entry"})
_TERM_TOKEN = re.compile(r"^(?:tag|category|format|post_tag|post-format)-", re.I)


@lru_cache(maxsize=4096)
def _token_kind(cls: str, ident: str) -> str | None:
    """What the class and id words say: "comment", "other" or None (pages repeat them).

    On a post's own element (WordPress `hentry type-post status-publish ...`), the words made
    from its terms (`tag-links`, `category-news`, `format-standard`) say nothing."""
    kind = None
    tokens = (cls + " " + ident).split()
    post = any(t in _POST_MARKERS for t in tokens)
    for token in tokens:
        if _STATE_PREFIX.match(token) or token.lower().endswith(("-open", "-closed", "-enabled")):
            continue
        if post and _TERM_TOKEN.match(token):
            continue
        if _BOILER_TOKEN.match(token) or _BOILER_PREFIX.match(token):
            if _COMMENT_TOKEN.search(token):
                return "comment"
            kind = "other"
    return kind


def _boiler_kind(el: etree._Element) -> str | None:
    """Why `el` is boilerplate by its attributes: "comment" (reader comments), "other"
    (share bars, author boxes, ads, meta lines, hidden elements ...) or None."""
    itemtype = el.get("itemtype") or ""
    if itemtype and _COMMENT_TYPES.search(itemtype):
        return "comment"
    cls = el.get("class") or ""
    ident = el.get("id") or ""
    if ident and el.tag in _HEADINGS and _is_text_slug(el, ident):
        ident = ""
    kind = _token_kind(cls, ident) if cls or ident else None
    if kind:
        return kind
    if el.get("hidden") is not None:
        return "other"
    style = (el.get("style") or "").replace(" ", "").lower()
    return "other" if "display:none" in style or "visibility:hidden" in style else None


def _text_len(el: etree._Element) -> int:
    return len(norm_ws("".join(_visible_text(el))))


def _visible_text(el: etree._Element) -> list[str]:
    out: list[str] = []
    for node in el.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag and tag.lower() not in ("script", "style", "noscript", "template") and node.text:
            out.append(node.text)
        if node is not el and node.tail:
            out.append(node.tail)
    return out


def _link_density(el: etree._Element, total: int) -> float:
    if not total:
        return 0.0
    linked = sum(len(norm_ws(a.text_content())) for a in el.iter("a"))
    return linked / total


def _drop(el: etree._Element) -> None:
    """Remove an element but keep its tail text in the document."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def clean_container(
    root: etree._Element, protect_share: float = 0.5, link_lists: bool = True
) -> None:
    """Strip boilerplate from `root` in place (callers pass a copy).

    `protect_share`: an element holding more than this share of root's text is not removed by
    a non-comment class/id rule (guards wrappers named e.g. "paywall" or "js-hidden").
    """
    sizes = _text_sizes(root)
    total = sizes.get(root, 0)
    page_prose: list[int] = []

    def holds_prose(el: etree._Element, least: int = _TAG_PROSE_MIN) -> bool:
        """Whether `el` holds most of the words outside links of `root`, and at least `least`
        of them (a post in <aside>)."""
        if sizes.get(el, 0) < least * _MIN_WORD_CHARS:  # too little text for `least` words
            return False
        if not page_prose:
            page_prose.append(_prose_words(root))
        words = _prose_words(el)
        return words >= least and words >= _TAG_PROSE_SHARE * page_prose[0]

    doomed: list[etree._Element] = []
    stack = list(reversed(root))  # document order; a doomed element's subtree is not visited
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str):
            continue
        if _is_doomed(el, root, sizes, protect_share * total, holds_prose):
            doomed.append(el)
            continue
        if el.tag in _SECTIONING_TAGS and holds_prose(el):
            el.tag = "div"  # the post itself: trafilatura would drop an <aside> or <header>
        stack.extend(reversed(el))
    _drop_all(doomed)
    _drop_teaser_rails(root)
    if link_lists:
        _drop_link_lists(root)


_INVISIBLE = frozenset({"script", "style", "noscript", "template"})


def _text_sizes(root: etree._Element) -> dict[etree._Element, int]:
    """Each element's visible text length (as `_text_len` counts it, up to the spaces between
    pieces), for the whole tree in one pass."""
    order = [el for el in root.iter() if isinstance(el.tag, str)]
    sizes: dict[etree._Element, int] = {}
    for el in reversed(order):  # children before their parents
        text = el.text
        size = _ws_len(text) if text and el.tag.lower() not in _INVISIBLE else 0
        for child in el:
            if isinstance(child.tag, str):
                size += sizes.get(child, 0)
            if child.tail:
                size += _ws_len(child.tail)
        sizes[el] = size
    return sizes


def _ws_len(text: str) -> int:
    """len(norm_ws(text)), faster: the characters of its words and one space between each."""
    words = text.split()
    return sum(map(len, words)) + len(words) - 1 if words else 0


_SECTIONING_TAGS = frozenset({"aside", "header", "footer"})
_TAG_PROSE_MIN = 100  # words outside links: an <aside>, <header> ... with this many ...
_TAG_PROSE_SHARE = 0.4  # ... and this share of the page's is the post, misnamed
_CAPTION_PROSE_MIN = 30  # a credited caption with this many and that share is the story
_MIN_WORD_CHARS = 2  # a word and the space after it take at least this many characters


def _is_doomed(
    el: etree._Element,
    root: etree._Element,
    sizes: dict[etree._Element, int],
    limit: float,
    holds_prose: Callable[..., bool],
) -> bool:
    """Whether `clean_container` removes `el`; `limit`: the most text a non-comment class/id
    rule may take; `holds_prose`: whether an element holds most of the page's prose (then
    neither its tag nor a photo credit makes it boilerplate)."""
    tag = el.tag.lower()
    if tag in ("script", "style", "noscript", "template", "button", "select", "textarea"):
        return True
    if tag in _BOILER_TAGS and not _inside_quote(el, root):
        # ASP.NET pages wrap all in <form>; some themes put the post in <aside> or <header>
        return sizes.get(el, 0) <= limit and not holds_prose(el)
    if _is_credited_caption(el, tag):
        # a slideshow's captions may be all the story there is
        return not holds_prose(el, _CAPTION_PROSE_MIN)
    kind = _boiler_kind(el)
    return (kind == "comment" and el.find(".//h1") is None) or (
        kind == "other"
        and sizes.get(el, 0) <= limit
        and not _embeds_post(el)
        and not _wraps_container(el, sizes)
        and not _in_sentence(el, tag, sizes)
    )


_INLINE_TAGS = frozenset(
    {"a", "span", "em", "i", "b", "strong", "abbr", "cite", "q", "mark", "small", "sup", "sub"}
)
_TEXT_BLOCKS = frozenset(
    {"p", "li", "dd", "td", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption"}
)
_SENTENCE_AROUND = 40  # characters of its paragraph's own text around an inline element
_INLINE_MAX = 300
_HIDDEN_TOKEN = re.compile(
    r"hidden|screen-?reader|sr-only|offscreen|print-?only|noprint|invisible|visually", re.I
)


def _in_sentence(el: etree._Element, tag: str, sizes: dict[etree._Element, int]) -> bool:
    """A short inline element inside a paragraph's running text (a `popup` annotation link,
    a `tag`-classed keyword): its words are the sentence's, whatever its class says, unless
    it is hidden."""
    if tag not in _INLINE_TAGS or sizes.get(el, 0) > _INLINE_MAX:
        return False
    parent = el.getparent()
    if parent is None or not isinstance(parent.tag, str) or parent.tag not in _TEXT_BLOCKS:
        return False
    if sizes.get(parent, 0) - sizes.get(el, 0) < _SENTENCE_AROUND:
        return False
    style = (el.get("style") or "").replace(" ", "").lower()
    if el.get("hidden") is not None or "display:none" in style or "visibility:hidden" in style:
        return False
    return not _HIDDEN_TOKEN.search(f"{el.get('class') or ''} {el.get('id') or ''}")


def _wraps_container(el: etree._Element, sizes: dict[etree._Element, int]) -> bool:
    """Whether one content container (`post-content`, `articleBody` ...) inside `el` holds
    most of its text: a "post-meta" or "widget" box that wraps the post is not boilerplate
    (a related-posts box holds several small ones)."""
    found = None
    for d in el.iterdescendants():
        if d.get("itemprop") in ("articleBody", "articlebody") or (
            (d.get("class") or d.get("id")) and _names_container(d.get("class"), d.get("id"))
        ):
            if found is not None and not _is_descendant(d, found):
                return False
            found = d if found is None else found
    if found is None:
        return False
    size = sizes.get(found, 0)
    return size >= _WRAPPED_SHARE * sizes.get(el, 0) and size >= _WRAPPED_MIN


_WRAPPED_SHARE = 0.5
_WRAPPED_MIN = 500  # characters


_RAIL_TEXT = 100  # at most this much text per link in a block of teaser cards


def _drop_teaser_rails(root: etree._Element) -> None:
    """Drop a "Most read" / "Related stories" block wherever it sits: the heading that names it
    and the enclosing elements whose other text is mostly links (the teaser headlines)."""
    doomed = []
    limit = -1.0
    for head in root.iter("h2", "h3", "h4", "h5", "h6"):
        text = norm_ws(head.text_content())
        if not text or not _TEASER_HEAD.match(text):
            continue
        if limit < 0:
            limit = _TEASER_TAIL * _text_len(root)
        size = len(text)
        best = None
        for anc in head.iterancestors():
            if anc is root:
                break
            whole = _text_len(anc)
            if whole > limit:  # never a block this large of the page
                break
            rest = whole - size
            if rest <= 0:
                continue
            anchors = [a for a in anc.iter("a") if not _is_descendant(a, head)]
            linked = sum(len(norm_ws(a.text_content())) for a in anchors)
            # teaser cards: linked headlines, or cards with (often empty, overlay) links
            if linked < 0.5 * rest and (len(anchors) < 3 or rest > _RAIL_TEXT * len(anchors)):
                break
            best = anc
        if best is not None:
            doomed.append(best)
    _drop_all(doomed)


_EMBED_MIN = 40  # characters of quoted text that make a social embed worth keeping


def _embeds_post(el: etree._Element) -> bool:
    """An embedded post (tweet, Instagram caption ...) the author quotes: a social/embed
    wrapper around a <blockquote> with real text. Share bars never hold a blockquote."""
    quotes = [el] if el.tag == "blockquote" else el.findall(".//blockquote")
    return any(_text_len(q) >= _EMBED_MIN for q in quotes)


@lru_cache(maxsize=4096)
def _names_caption(cls: str | None, ident: str | None) -> bool:
    return any(_CAPTION_TOKEN.search(t) for t in f"{cls or ''} {ident or ''}".split())


def _is_credited_caption(el: etree._Element, tag: str) -> bool:
    """A news photo caption: a caption element naming a photo credit or agency.

    Authors' own captions (no credit) stay part of the body.
    """
    if tag != "figcaption" and not _names_caption(el.get("class"), el.get("id")):
        return False
    if any(_BOILER_TOKEN.match(t) for d in el.iterdescendants() for t in _tokens(d)):
        return True  # holds a credit (or other chrome) element
    text = norm_ws("".join(_visible_text(el)))
    return len(text) < 600 and bool(_CREDIT.search(text))


def _drop_all(doomed: list[etree._Element]) -> None:
    """Drop each element of `doomed` that is not inside another one."""
    ids = {id(el) for el in doomed}
    for el in doomed:
        if not any(id(a) in ids for a in el.iterancestors()):
            _drop(el)


def _inside_quote(el: etree._Element, root: etree._Element) -> bool:
    for anc in el.iterancestors():
        if anc.tag in ("blockquote", "figure"):
            return True
        if anc is root:
            break
    return False


def _drop_link_lists(root: etree._Element) -> None:
    """Remove nested blocks made mostly of links (tag clouds, share rows, "most read" lists).

    Top-level children of the container are written by the author and kept.
    """
    doomed = []
    for el in root.iter("ul", "ol", "div", "section", "p"):
        if el is root or el.getparent() is root:
            continue  # the author's own top-level lists of links stay
        links = [a for a in el.iter("a") if norm_ws(a.text_content())]
        if len(links) < 3:
            continue
        total = _text_len(el)
        if not total:
            continue
        linked = sum(len(norm_ws(a.text_content())) for a in links)
        if (linked / total > 0.9 and total / len(links) < 60) or (
            linked / total > 0.6 and (total - linked) / len(links) < 40
        ):
            doomed.append(el)
    _drop_all(doomed)


# -- container path --------------------------------------------------------------------------


def _in_boilerplate(el: etree._Element) -> bool:
    for anc in el.iterancestors():
        tag = anc.tag.lower() if isinstance(anc.tag, str) else ""
        if tag in ("aside", "nav", "footer", "form"):
            return True
        if tag not in ("html", "body") and any(
            "comment" in t.lower() and not _STATE_PREFIX.match(t) and not t.endswith("-open")
            for t in _tokens(anc)
        ):
            return True
    return False


@lru_cache(maxsize=4096)
def _names_container(cls: str | None, ident: str | None) -> bool:
    return any(_CONTAINER_CLASS.match(t) for t in f"{cls or ''} {ident or ''}".split())


def find_container(tree: etree._Element) -> etree._Element | None:
    """The CMS element wrapping the article body, or None."""
    candidates: list[tuple[int, etree._Element]] = []
    for el in _CONTAINER_XPATH(tree):
        if not isinstance(el.tag, str) or el.tag.lower() not in _CONTAINER_TAGS:
            continue
        prop = (el.get("itemprop") or "").lower()
        if prop != "articlebody" and not _names_container(el.get("class"), el.get("id")):
            continue
        if _in_boilerplate(el):
            continue
        candidates.append((_text_len(el), el))
    if not candidates:
        return None
    size, best = max(candidates, key=lambda c: c[0])
    if not size:
        return None
    # prefer a nested candidate that still holds most of the text (less chrome around it)
    changed = True
    while changed:
        changed = False
        for inner_size, inner in candidates:
            if inner is not best and inner_size >= 0.8 * size and _is_descendant(inner, best):
                best, size, changed = inner, inner_size, True
                break
    return best


_DIGITS = re.compile(r"\d+")


def _class_sig(cls: str | None) -> str:
    """A class attribute with its numbers blanked: chunks of one body are often numbered
    ("story-body story-body-1", "... story-body-2")."""
    return _DIGITS.sub("#", cls or "")


def _container_parts(container: etree._Element) -> list[etree._Element]:
    """`container` and its sibling chunks: pages that break the body with ads or inline promos
    repeat the same container element (same tag and class) several times inside one <article>.
    """
    cls = container.get("class")
    article = next(container.iterancestors("article"), None)
    if not cls or article is None:
        return [container]
    sig = _class_sig(cls)
    parts = [
        el
        for el in article.iter(container.tag)
        if _class_sig(el.get("class")) == sig and _text_len(el) and not _in_boilerplate(el)
    ]
    # keep the outermost ones only
    ids = {id(el) for el in parts}
    parts = [el for el in parts if not any(id(a) in ids for a in el.iterancestors())]
    return parts if any(el is container for el in parts) else [container]


def _is_descendant(el: etree._Element, anc: etree._Element) -> bool:
    return any(a is anc for a in el.iterancestors())


# -- trafilatura path -------------------------------------------------------------------------

_TRAF_TAGS = {
    "head": "h2",
    "item": "li",
    "quote": "blockquote",
    "lb": "br",
    "row": "tr",
    "cell": "td",
    "hi": "span",
    "ref": "a",
    "graphic": "img",
    "del": "s",
    "doc": "div",
    "main": "div",
}


def _trafilatura_html(tree: etree._Element, url: str, rich: bool = True) -> etree._Element | None:
    """trafilatura's body for a cleaned copy of the page, turned back into HTML tags.

    `rich`: keep links and emphasis (for Markdown); without, trafilatura runs about a third
    faster (the second opinion next to a container only needs the text)."""
    doc = trafilatura.bare_extraction(
        tree,
        url=url or None,
        output_format="xml",  # only its tree is used: "python" would render its text too
        include_comments=False,
        include_tables=True,
        include_formatting=rich,
        include_links=rich,
        include_images=False,
        with_metadata=False,
    )
    body = getattr(doc, "body", None)
    if body is None or not len(body):
        return None
    total = len(norm_ws(" ".join(body.itertext())))
    linked = sum(len(norm_ws(" ".join(ref.itertext()))) for ref in body.iter("ref"))
    if not total or linked >= 0.9 * total:  # a menu, not an article
        return None
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag
        if tag == "head":
            rend = el.get("rend") or "h2"
            el.tag = rend if rend in ("h1", "h2", "h3", "h4", "h5", "h6") else "h2"
        elif tag == "list":
            el.tag = "ol" if (el.get("rend") or "").startswith("ol") else "ul"
        elif tag == "code":
            text = "".join(el.itertext())
            el.tag = "pre" if "\n" in text or el.getparent() is body else "code"
        elif tag == "cell":
            el.tag = "th" if el.get("role") == "head" else "td"
        elif tag == "hi":
            rend = el.get("rend") or ""
            el.tag = "b" if "#b" in rend else "i" if "#i" in rend else "span"
        elif tag == "ref":
            el.tag = "a"
            if el.get("target"):
                el.set("href", el.get("target") or "")
        elif tag in _TRAF_TAGS:
            el.tag = _TRAF_TAGS[tag]
    return body


# -- final filters ----------------------------------------------------------------------------


def _title_candidates(tree: etree._Element) -> set[str]:
    titles: set[str] = set()
    for el in tree.iter("h1", "title"):
        text = norm_ws(el.text_content()).lower()
        if text:
            titles.add(text)
            if el.tag == "title":
                for sep in (" | ", " – ", " — ", " - ", " · ", " :: ", " » "):
                    if sep in text:
                        titles.update(p.strip() for p in text.split(sep) if p.strip())
    for meta in tree.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() in (
            "og:title",
            "twitter:title",
        ):
            text = norm_ws(meta.get("content") or "").lower()
            if text:
                titles.add(text)
    return titles


# "Read more: <link>" / "Related: <link>" / "On example.com: <link>": a labelled teaser link
_TEASER_LINK = re.compile(
    r"^[\[(]?\s*(?:read more|read next|read also|also read|related(?: articles?| stories| posts?"
    r"| content| coverage)?|see (?:more|also)|don[’']?t miss|more on this|recommended|watch"
    r"|lesen sie (?:auch|mehr|weiter)|mehr zum thema|auch interessant|siehe auch"
    r"|leggi anche(?: su)?"
    r"|leia (?:também|mais)|veja (?:também|mais)|lee también|on [\w.-]+\.[a-z]{2,3})\s*[:|]",
    re.I,
)
_LINK_MD = re.compile(r"\]\([^)]*\)")


def _is_teaser_link(b: Block) -> bool:
    """A short labelled line pointing at another article (the label, then a linked title)."""
    if b.kind not in ("p", "h", "li") or b.quote or len(b.text) > 200:
        return False
    return bool(_TEASER_LINK.match(b.text)) and "](" in b.md


# a sentence that starts by telling the reader to subscribe / sign up / follow: a promo
_CTA_SENTENCE = re.compile(
    r"^(?:click here to (?:subscribe|sign up)|subscribe (?:to|now|today|for)|sign up (?:for|to|now"
    r"|today)|get (?:the latest|breaking news|our|[\w\s]{0,40}\bdelivered)|follow (?:us|@)"
    r"|(?:jetzt )?(?:abonnieren sie|newsletter abonnieren)|melden sie sich .{0,40}newsletter)",
    re.I,
)
# news-agency credit and contact lines that close an article
_CREDIT_LINE = re.compile(
    r"^[\[(]?(?:(?i:(?:additional )?(?:reporting|writing|editing) by)\b.{0,300}"
    r"|(?i:write|e-?mail|contact|reach) (?:to )?(?:the )?"
    r"(?:author|reporters?|writers?|[A-Z][\w.'’-]*"
    r"(?: [A-Z][\w.'’-]*){0,3}) (?:at|(?i:on twitter at)|via) .{0,200}"
    r"|.{3,200}\bcontributed (?:to )?this (?:report|story|article)\.?)$"
)
# "Tags" + a comma list (label on its own line or before a colon): taxonomy, never prose
_TAG_LIST = re.compile(
    r"^(?:tags?|tagged(?: with)?|schlagw(?:ö|oe)rter|schlagworte|stichw(?:ö|oe)rter|keywords"
    r"|etiquetas|themen)\s*(?::|\n)\s*[^.!?]{0,500}$",
    re.I,
)
# labels of a post's meta line; two of them in one short line make it a meta line
_META_LABEL = re.compile(
    r"(?:^|[\s|•·–-])(?:(?:posted|published|written|publicado|publicada|veröffentlicht|geschrieben"
    r"|pubblicato|escrito)(?: (?:by|por|von|da|on|am|in))?|author|autor|autore|categor(?:y|ies|ia)"
    r"|kategorien?|rubrik|tags?|schlagwörter|filed under|date|datum|data)\s*:",
    re.I,
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+")
_CTA_MAX = 300


def _is_call_to_action(b: Block) -> bool:
    """A short paragraph with a sentence that tells the reader to subscribe, sign up or follow."""
    if b.kind != "p" or len(b.text) > _CTA_MAX:
        return False
    return any(_CTA_SENTENCE.match(part) for part in _SENTENCE_SPLIT.split(b.text))


def _is_headline_link(b: Block) -> bool:
    """A paragraph that is one link in capitals: a news site's promo for another story."""
    md = b.md.strip("*_ ")
    return (
        b.kind == "p"
        and md.startswith("[")
        and md.endswith(")")
        and len(_LINK_MD.findall(md)) == 1
        and len(b.text.split()) >= 4
        and b.text.isupper()
    )


def _is_meta_block(b: Block) -> bool:
    """A taxonomy or post-meta line: "Tags" and a list, or a line with two meta labels."""
    if b.kind not in ("p", "h", "li") or b.quote:
        return False
    if _TAG_LIST.match(b.text):
        return True
    return len(b.text) <= 250 and len(_META_LABEL.findall(b.text)) >= 2


def _is_boiler_block(b: Block) -> bool:
    if b.kind == "caption":
        return bool(_CREDIT.search(b.text)) and len(b.text) < 600
    if _is_meta_block(b):
        return True
    if (
        _is_call_to_action(b)
        or _is_teaser_link(b)
        or (b.kind == "p" and _CREDIT_LINE.match(b.text))
    ):
        return True
    if b.kind not in ("p", "h", "li") or len(b.text) > _SHORT_LINE:
        return False
    text = b.text
    if _is_headline_link(b):
        return True
    if _BOILER_LINE.match(text) or _CHROME_LINE.match(text) or _BYLINE.match(text):
        return True
    return text.isupper() and "CLICK" in text  # "GET THE APP BY CLICKING HERE"


def _cut_teasers(blocks: list[Block]) -> list[Block]:
    """Drop a trailing "Most read" / "You may also like" / "About the author" section (heading
    and all after it): when what follows it is small, or mostly links."""
    total = _words(blocks)
    seen = 0
    for i, b in enumerate(blocks):
        if b.kind in ("p", "h") and not b.quote and _TEASER_HEAD.match(b.text):
            rest = blocks[i + 1 :]
            if total - seen <= _TEASER_TAIL * total:
                return blocks[:i]
            words = _words(rest)
            if words and _linked_words(rest) >= _TEASER_LINKED * words:
                return blocks[:i]
        seen += len(b.text.split())
    return blocks


_LINK_TEXT = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\([^)]*\)")


def _linked_words(blocks: list[Block]) -> int:
    """Words of `blocks` inside Markdown links."""
    return sum(len(m.group(1).split()) for b in blocks for m in _LINK_TEXT.finditer(b.md))


_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def _is_link_only(b: Block) -> bool:
    md = _LIST_MARK.sub("", b.md).strip("*_ ")
    return md.startswith("[") and md.endswith(")") and len(_LINK_MD.findall(md)) == 1


def _drop_announced_links(blocks: list[Block]) -> list[Block]:
    """Drop a "You may also like:" / "Related posts" line and the list of linked titles right
    after it, wherever it sits (inside a post's container, before the author's last words)."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind in ("p", "h") and not b.quote and _TEASER_HEAD.match(b.text):
            j = i + 1
            while j < len(blocks) and blocks[j].kind == "li" and _is_link_only(blocks[j]):
                j += 1
            if j - i > 1:
                i = j
                continue
        out.append(b)
        i += 1
    return out


def _filter_blocks(blocks: list[Block], titles: set[str]) -> list[Block]:
    out: list[Block] = []
    seen: set[str] = set()
    for b in _drop_announced_links(blocks):
        if _is_boiler_block(b):
            continue
        if b.kind == "caption" and len(b.text) >= 40:
            if b.text in seen:  # a gallery repeating its captions
                continue
            seen.add(b.text)
        out.append(b)
    out = _cut_teasers(out)
    while out and out[0].kind in ("p", "h") and out[0].text.lower() in titles:
        out.pop(0)
    return out


# -- schema.org articleBody (JSON-LD) -------------------------------------------------------

_LD_XPATH = etree.XPath("//script[@type='application/ld+json']")
_LD_MIN_WORDS = 50
_LD_GAIN = 1.5  # JSON-LD must hold this many times our words ...
_LD_COVER = 0.8  # ... and contain this share of our word 4-grams
_WORD = re.compile(r"\w+")


def _ld_article_body(root: etree._Element) -> str:
    """The longest schema.org articleBody string in the page's JSON-LD ("" if none)."""
    best = ""
    for script in _LD_XPATH(root):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                body = item.get("articleBody")
                if isinstance(body, str) and len(body) > len(best):
                    best = body
                stack.extend(v for v in item.values() if isinstance(v, (list, dict)))
    if "<" in best and re.search(r"<(?:p|br|div|span|a)\b", best):
        best = "\n\n".join(
            p.text_content() for p in lxml.html.fragments_fromstring(best) if hasattr(p, "tag")
        )
    return best


def _grams(text: str) -> set[tuple[str, ...]]:
    tokens = _WORD.findall(text.lower())
    return {tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)}


def _ld_blocks(root: etree._Element, blocks: list[Block]) -> list[Block] | None:
    """Blocks from JSON-LD articleBody when the HTML shows only part of it (JS-rendered or
    truncated markup) and what we found is part of it; else None."""
    ld = _ld_article_body(root)
    ld_words = len(ld.split())
    if ld_words < _LD_MIN_WORDS or ld_words < _LD_GAIN * _words(blocks):
        return None
    ours = _grams(" ".join(b.text for b in blocks))
    if ours and len(ours & _grams(ld)) < _LD_COVER * len(ours):
        return None
    paras = [norm_ws(p) for p in re.split(r"\n\s*\n|\n", ld)]
    return [Block("p", p, _md_escape(p)) for p in paras if p]


def _words(blocks: list[Block]) -> int:
    return sum(len(b.text.split()) for b in blocks)


_MAX_LEARNED_SHARE = 0.5  # never drop more than this share of a body's words as learned boilerplate


def _drop_learned(
    blocks: list[Block], boilerplate: frozenset[str]
) -> tuple[list[Block], list[str], bool]:
    """Drop blocks the site's learned `boilerplate` names (see profile.learned_blocks).

    Only paragraphs, headings, list items and captions outside quotes are candidates. When they
    would take more than half the body's words, nothing is dropped (returned flag True).
    """
    candidates = [
        (b.text, b.md) if b.kind in ("p", "h", "li", "caption") and not b.quote else None
        for b in blocks
    ]
    drop = learned_blocks(candidates, boilerplate)
    keep = [b for b, d in zip(blocks, drop, strict=True) if not d]
    removed = [b for b, d in zip(blocks, drop, strict=True) if d]
    if not removed:
        return blocks, [], False
    if _words(removed) > _MAX_LEARNED_SHARE * _words(blocks):
        return blocks, [], True
    return keep, [b.text for b in removed], False


def container_blocks(root: etree._Element, url: str, titles: set[str]) -> list[Block]:
    """The container candidate: the CMS content element, cleaned and filtered ([] if none)."""
    container = find_container(root)
    return [] if container is None else _container_blocks(container, url, titles)


def _container_blocks(container: etree._Element, url: str, titles: set[str]) -> list[Block]:
    parts = _container_parts(container)
    work = deepcopy(container)
    if len(parts) > 1:  # its attributes, the parts' children in page order
        work.clear()
        for part in parts:
            chunk = deepcopy(part)
            if chunk.text and chunk.text.strip():
                wrap = lxml.html.Element("p")
                wrap.text = chunk.text
                work.append(wrap)
            work.extend(list(chunk))
    clean_container(work)
    return _filter_blocks(render_blocks(work, url), titles)


def trafilatura_blocks(root: etree._Element, url: str, titles: set[str]) -> list[Block]:
    """The trafilatura candidate: its body of our cleaned copy of the page, else of the page."""
    page = deepcopy(root)
    clean_container(page, link_lists=False)  # trafilatura weighs link density itself
    body = _trafilatura_html(page, url)
    blocks = _filter_blocks(render_blocks(body, url), titles) if body is not None else []
    words = _words(blocks)
    if words < _FEW_WORDS:  # our cleanup may have gone too far: let trafilatura judge alone
        body = _trafilatura_html(root, url)  # it copies its input
        raw = _filter_blocks(render_blocks(body, url), titles) if body is not None else []
        if _words(raw) >= max(_MIN_RAW_WORDS, _RAW_GAIN * words):
            blocks = raw
    return blocks


# -- choosing between the container and trafilatura ------------------------------------------

_PART_OF = 0.5  # share of the container's 4-grams trafilatura's body must hold to contain it
_LATE_START = 0.3  # the container starts this far into trafilatura's body: a trailing promo
_GROWTH = 3  # trafilatura's body is this many times the container's: the container is a part
_SMALL = 30  # 4-grams: a container this small is a teaser or a promo line, unless confirmed
_DISJOINT_GROWTH = 10  # disjoint: trafilatura's body this many times larger wins anyway
_BLOATED = 4  # the container holds all of trafilatura's body and this many times more


def _gram_seq(text: str) -> list[tuple[str, ...]]:
    tokens = _WORD.findall(text.lower())
    if len(tokens) < 4:
        return [tuple(tokens)] if tokens else []
    return [tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)]


_NEAR_TITLE = 300  # characters of page text between the title heading and the container


def _follows_title(root: etree._Element, container: etree._Element, titles: set[str]) -> bool:
    """Whether `container` starts right after the page's title heading (its <h1>, or the
    first one when none matches the title): little text lies between them."""
    heads = [h for h in root.iter("h1") if norm_ws(h.text_content())]
    if not heads:
        return False
    head = next((h for h in heads if norm_ws(h.text_content()).lower() in titles), heads[0])
    if _is_descendant(head, container) or head is container:
        return True
    between = 0
    started = False
    for el in root.iter():
        if el is container:
            return started
        if el is head:
            started = True
            continue
        if not started or _is_descendant(el, head):
            continue
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag and tag not in ("script", "style", "noscript", "template") and el.text:
            between += len(el.text.strip())
        if el.tail:
            between += len(el.tail.strip())
        if between > _NEAR_TITLE:
            return False
    return False


_REPEATS = 2  # other elements like the container (tag and class) that make it one of many


def _is_repeated(root: etree._Element, container: etree._Element) -> bool:
    """Whether the container is one of many alike (a teaser card, one forum post, one entry of
    a listing): at least `_REPEATS` other elements with its tag and class and text, besides the
    chunks of one post that `_container_parts` joins."""
    cls = container.get("class")
    if not cls:
        return False
    # the elements themselves, not their id(): a freed lxml proxy's id is reused by the next
    parts = _container_parts(container)
    others = 0
    for el in root.iter(container.tag):
        if el.get("class") == cls and not any(el is p for p in parts) and _text_len(el):
            others += 1
            if others >= _REPEATS:
                return True
    return False


_PAGE_SHARE = 0.6  # a container with this share of the page's text needs no second opinion
_PROSE_SHARE = 0.5  # ... or with this share of the words outside links (menus, widgets)
_INVISIBLE = frozenset({"script", "style", "noscript", "template"})


def _holds_page(root: etree._Element, container: etree._Element) -> bool:
    """Whether `container` holds most of the page's visible text, or most of its words outside
    links: no other candidate can then be the larger text the choice looks for (and
    trafilatura's run is saved). Navigation, widgets and footers are mostly links, so the
    second measure still holds on pages whose template is large."""
    body = root.find("body")
    page = body if body is not None else root
    total = _text_len(page)
    if not total:
        return False
    if _text_len(container) >= _PAGE_SHARE * total:
        return True
    prose = _prose_words(page)
    return bool(prose) and _prose_words(container) >= _PROSE_SHARE * prose


def _prose_words(el: etree._Element) -> int:
    """Words of the visible text of `el` that are not inside a link."""
    words = 0
    stack: list[tuple[etree._Element, bool]] = [(el, False)]
    while stack:
        node, linked = stack.pop()
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in _INVISIBLE:
            continue
        inside = linked or tag == "a"
        if tag and node.text and not inside:
            words += len(node.text.split())
        for child in node:
            if child.tail and not inside:
                words += len(child.tail.split())
            stack.append((child, inside))
    return words


def choose_candidate(
    container: list[Block],
    other: list[Block],
    follows_title: bool = False,
    repeated: bool = False,
) -> list[Block]:
    """The container's blocks, or trafilatura's (`other`) when the evidence says the container
    is not the article: a teaser or promo that trafilatura's body holds only late or in
    passing, a small block elsewhere on the page while trafilatura finds far more text, or a
    container that wraps trafilatura's body with much more around it (comments, listings).
    A container right below the title heading (`follows_title`) is kept when it is small; one
    of many alike on the page (`repeated`) gives way to a larger body from trafilatura."""
    seq_c = _gram_seq(blocks_to_text(container))
    seq_o = _gram_seq(blocks_to_text(other))
    if not seq_o or not seq_c:
        return container if seq_c else other
    if repeated and len(seq_o) > len(seq_c):
        return other
    set_c, set_o = set(seq_c), set(seq_o)
    shared = set_c & set_o
    n_c, n_o = len(seq_c), len(seq_o)
    if len(shared) >= _PART_OF * len(set_c):
        if len(shared) >= 0.9 * len(set_o) and n_c > _BLOATED * n_o:
            return other
        if n_o > _GROWTH * n_c and not follows_title:
            first = next(i for i, gram in enumerate(seq_o) if gram in set_c)
            if first > _LATE_START * n_o:
                return other
        return container
    if n_o > _DISJOINT_GROWTH * n_c or (n_o > _GROWTH * n_c and n_c < _SMALL and not follows_title):
        return other
    return container


_EXCLUDE_MAX = 0.9  # excluded elements holding this share of the page's text: keep them all


def _without(root: etree._Element, exclude: Sequence[etree._Element]) -> etree._Element:
    """A copy of `root` without the elements `exclude` names (`root` itself when they would
    take nearly all of its text: then they are the page, not beside it)."""
    page = root.find("body")
    total = _text_len(page if page is not None else root)
    if not total or sum(_text_len(el) for el in exclude) >= _EXCLUDE_MAX * total:
        return root
    doc = root.getroottree()
    paths = [doc.getpath(el) for el in exclude]
    copy = deepcopy(root)
    found = [copy.getroottree().xpath(path) for path in paths]
    for el in (hits[0] for hits in found if hits):
        _drop(el)
    return copy


def extract_body(
    tree: lxml.html.HtmlElement,
    url: str,
    boilerplate: frozenset[str] = frozenset(),
    exclude: Sequence[etree._Element] = (),
) -> Body | None:
    """The article body of a parsed page; None when the page has none. Never mutates `tree`.

    `boilerplate`: fingerprints of the site's recurring blocks (`SiteProfile.boilerplate()`),
    dropped from the body and listed in `Body.removed`. `exclude`: elements of `tree` that are
    no part of the body whatever their markup says (the reader comments `find_comments`
    read: a theme that names them in no way the cleanup knows).
    """
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    if exclude:
        root = _without(root, exclude)
    titles = _title_candidates(root)
    container = find_container(root)
    blocks = _container_blocks(container, url, titles) if container is not None else []
    if not blocks or container is None:
        blocks = trafilatura_blocks(root, url, titles)
    elif not _holds_page(root, container):
        body = _trafilatura_html(root, url, rich=False)  # the second opinion: on the page
        other = _filter_blocks(render_blocks(body, url), titles) if body is not None else []
        blocks = choose_candidate(
            blocks,
            other,
            _follows_title(root, container, titles),
            _is_repeated(root, container),
        )
    ld_blocks = _ld_blocks(root, blocks)
    if ld_blocks:
        blocks = _filter_blocks(ld_blocks, titles)
    removed: list[str] = []
    guarded = False
    if boilerplate and blocks:
        blocks, removed, guarded = _drop_learned(blocks, boilerplate)
    if not blocks:
        return None
    return Body(
        text=blocks_to_text(blocks),
        markdown=blocks_to_markdown(blocks),
        removed=removed,
        guarded=guarded,
    )
