"""Reader comments, pingbacks and trackbacks from one parsed HTML page.

Server-rendered comments are read, in page order and with their reply parents, from:

1. the threaded list markup of WordPress (classic ``ol.comment-list li.comment#comment-N``
   and block ``.wp-block-comments``) and of engines that copy it (an ``li``/``div``/``article``
   with class ``comment``/``pingback``/``trackback``; replies nested inside their parent);
2. schema.org ``Comment`` microdata;
3. microformats (``u-comment``/``p-comment`` ``h-cite``/``h-entry`` of the post's ``h-entry``);
4. schema.org ``Comment`` objects in JSON-LD;
5. a thread the page names (``#comments``, ``.commentlist``, Movable Type's ``.commentbody``
   boxes ...): its repeated boxes, one comment each;
6. a flat thread of empty ``<a id="cN">`` anchors and "Posted by" lines (old TypePad).

`find_comments` also returns the elements the comments were read from, so that the body can
leave them out.

When the page has none of these but embeds a JavaScript comment system (Disqus, Facebook,
Commento, Isso, utterances, giscus, Hyvor Talk, ...), the status is ``not_captured`` with the
system's name; with no comments at all it is ``none``. The tree is never changed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from crawler.extract.metadata import (
    PageIndex,
    iso_aware,
    iter_jsonld_of_type,
    norm_ws,
    parse_datetime,
)

__all__ = ["CommentsFound", "comment_text", "extract_comments", "find_comments"]

# --------------------------------------------------------------------------- text

_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "li",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "table",
        "tr",
        "figure",
        "figcaption",
        "section",
        "article",
        "header",
        "footer",
        "dl",
        "dt",
        "dd",
        "address",
        "hr",
        "details",
        "summary",
    }
)
_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "form",
        "button",
        "select",
        "textarea",
        "svg",
        "iframe",
        "input",
        "img",
    }
)
# what a comment's own box prints besides the text: never part of the text
_META_CLASSES = frozenset(
    {
        "reply",
        "comment-reply-link",
        "wp-block-comment-reply-link",
        "comment-edit-link",
        "edit-link",
        "wp-block-comment-edit-link",
        "says",
        "screen-reader-text",
        "comment-meta",
        "comment-metadata",
        "commentmetadata",
        "comment-author",
        "wp-block-comment-author-name",
        "wp-block-comment-date",
        "comment-awaiting-moderation",
        "wp-block-avatar",
        "avatar",
        "comment-header",
        "comment-footer",
        "comment-actions",
        "p-author",
        "dt-published",
        "u-url",
        "vcard",
        "reply-link",
        "comment-reply",
        "comment-like",
        "sharedaddy",
    }
)
_BR = "\x00"
# text for screen readers only (or hidden): "In reply to Martina.", "Says:", "(opens in a new tab)"
_HIDDEN_CLASSES = frozenset(
    {"screen-reader-text", "screen-reader-only", "sr-only", "sr-text", "visually-hidden",
     "visuallyhidden", "hidden-visually", "u-hidden-visually", "element-invisible",
     "assistive-text", "a11y-hidden", "show-for-sr", "offscreen", "hide-text", "hidden",
     "is-hidden", "screenreader", "screen-reader", "sr-only-focusable", "vh"}
)  # fmt: skip
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|clip\s*:\s*rect\(\s*0|"
    r"clip-path\s*:\s*inset\(\s*50%|(?:left|text-indent)\s*:\s*-\d{3,}",
    re.IGNORECASE,
)


def is_hidden(el: etree._Element) -> bool:
    """Visually hidden: a screen-reader-only class, the `hidden` attribute, a hiding style."""
    if el.get("hidden") is not None:
        return True
    classes = el.get("class")
    if classes and _HIDDEN_CLASSES.intersection(classes.lower().split()):
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def comment_text(
    el: etree._Element, skip_meta: bool = True, skip: Collection[etree._Element] = ()
) -> str:
    """Plain text of a comment body: paragraphs separated by a blank line, ``<br>`` a line
    break, whitespace collapsed; reply/edit links, author, date, avatar, "says:" left out,
    and the elements in `skip` (nested replies, the author line) too."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            lines = (norm_ws(line) for line in "".join(current).split(_BR))
            text = "\n".join(line for line in lines if line)
            if text:
                blocks.append(text)
            current.clear()

    def walk(node: etree._Element, pre: bool) -> None:
        if node.text:
            current.append(node.text.replace("\n", _BR) if pre else node.text)
        for child in node:
            tag = child.tag
            if (
                isinstance(tag, str)
                and tag not in _SKIP_TAGS
                and not (skip_meta and _META_CLASSES.intersection(child.get("class", "").split()))
                and not is_hidden(child)
                and not (skip and child in skip)
            ):
                if tag == "br":
                    current.append(_BR)
                elif tag in _BLOCK_TAGS:
                    flush()
                    walk(child, pre or tag == "pre")
                    flush()
                else:
                    walk(child, pre)
            if child.tail:
                current.append(child.tail.replace("\n", _BR) if pre else child.tail)

    walk(el, el.tag == "pre")
    flush()
    return "\n\n".join(blocks)


def _inline(el: etree._Element) -> str:
    """One-line text of an element, without "says:" and screen-reader-only text."""
    return norm_ws(comment_text(el).replace("\n", " "))


def _tokens(el: etree._Element) -> set[str]:
    return set(el.get("class", "").split())


_PING_BOX = re.compile(r"^(?:pings?|pinglist|ping-?list|\S*pingbacks?\S*|\S*trackbacks?\S*)$")
_PING_LABEL = re.compile(r"^\s*(pingback|trackback)\s*:", re.IGNORECASE)


def _kind(el: etree._Element, label: str = "") -> str:
    """comment, pingback or trackback: by the item's classes (`pingback`, `type-pingback`...),
    the list it sits in (`#pings`, `.pingbacklist`, `.trackbacks`...), or its printed label
    ("Pingback: Site")."""
    for node in chain((el,), el.iterancestors()):
        if node.tag in ("body", "html"):
            break
        words = [t.lower() for t in _tokens(node)] + [(node.get("id") or "").lower()]
        for word in words:
            if "trackback" in word and (node is el or _PING_BOX.match(word)):
                return "trackback"
            if ("pingback" in word and node is el) or (node is not el and _PING_BOX.match(word)):
                return "trackback" if "trackback" in word else "pingback"
    m = _PING_LABEL.match(label)
    return m.group(1).lower() if m else "comment"


def _owned(elements: Iterable[etree._Element], owner: etree._Element, items: set) -> list:
    """The elements whose nearest enclosing comment is ``owner`` (not a nested reply)."""
    out = []
    for el in elements:
        for anc in chain((el,) if el is not owner else (), el.iterancestors()):
            if anc is owner:
                out.append(el)
                break
            if anc in items:
                break
    return out


def _first_owned(owner: etree._Element, items: set, xpath: etree.XPath) -> etree._Element | None:
    found = _owned(xpath(owner), owner, items)
    return found[0] if found else None


def _date_of(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    for attr in ("datetime", "content", "title", "value"):
        value = el.get(attr)
        dt = parse_datetime(value) if value else None
        if dt is not None:
            return iso_aware(dt)
    return None


# --------------------------------------------------------------------------- threaded lists

_ITEM_CLASSES = ("comment", "pingback", "trackback")
_ID_PATTERN = re.compile(r"^(?:li-|div-)?comment-?(\d+)$|^c(\d+)$", re.IGNORECASE)


def _xp(expr: str) -> etree.XPath:
    return etree.XPath(expr)


def _has(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_AUTHOR_XPATHS = [
    _xp(f".//*[{_has('comment-author')}]//*[{_has('fn')}]"),
    _xp(f".//*[{_has('wp-block-comment-author-name')}]"),
    _xp(f".//*[{_has('comment-author-name')} or {_has('comment-author-link')}]"),
    _xp(".//*[@itemprop='author']//*[@itemprop='name']"),
    _xp(".//*[@itemprop='author']"),
    _xp(f".//*[{_has('p-author')}]//*[{_has('p-name')}]"),
    _xp(f".//*[{_has('p-author')} or {_has('u-author')}]"),
    _xp(f".//*[{_has('fn')}]"),
    _xp(f".//*[{_has('comment-author')}]"),
    _xp(f".//cite | .//*[{_has('author')} or {_has('user')} or {_has('username')}]"),
    _xp(f".//*[{_has('comment-body')}]//a[{_has('url')}] | .//a[{_has('url')}]"),
]
_DATE_XPATHS = [
    _xp(".//time[@datetime]"),
    _xp(".//*[@itemprop='dateCreated' or @itemprop='datePublished' or @itemprop='commentTime']"),
    _xp(f".//*[{_has('dt-published')}]"),
    _xp(f".//abbr[@title][{_has('published')} or {_has('comment-date')} or {_has('date')}]"),
]
_CONTENT_XPATHS = [
    _xp(
        f".//*[{_has('comment-content')} or {_has('wp-block-comment-content')}"
        f" or {_has('comment-text')} or {_has('comment_content')} or {_has('comment-body-text')}"
        " or @itemprop='text' or @itemprop='commentText'"
        f" or {_has('e-content')} or {_has('p-content')}]"
    ),
    _xp(f".//*[{_has('comment-body')} or {_has('comment-entry')} or {_has('content')}]"),
]
# other themes' names for a comment's text box: comment_entry, commentText, cmt-body, c-message
_CONTENT_CLASS = re.compile(
    r"^(?:comment|cmt|c)?[-_]?(?:content|text|body|entry|message|msg|txt)(?:[-_]?(?:text|body))?$",
    re.IGNORECASE,
)
_CLASSED = _xp(".//*[@class]")


def _content_box(el: etree._Element, items: set) -> etree._Element | None:
    """The comment's own text box by a class word `_CONTENT_XPATHS` do not list."""
    for box in _owned(_CLASSED(el), el, items):
        if any(_CONTENT_CLASS.match(t) for t in box.get("class", "").split()):
            return box
    return None


# a comment item is a box or a list of its own (the Guardian's `ul.comment`)
_ITEM_TAGS_THREADED = frozenset({"li", "div", "article", "section", "ul"})
# items marked by their id alone: `<li id="comment-9">`, Drupal's `<div id="comment-2691822">`,
# Movable Type's `<div id="c115850">`
_ID_ITEMS = _xp(
    "//*[self::li or self::div or self::article][starts-with(@id, 'comment-')"
    " or starts-with(@id, 'li-comment-') or starts-with(@id, 'div-comment-')"
    " or (starts-with(@id, 'c') and string-length(@id) > 3"
    " and translate(substring(@id, 2), '0123456789', '') = '')]"
)


_MF_ITEM = re.compile(r"\b(?:[uph]-comment|h-cite|h-entry)\b")


def _threaded_items(index: PageIndex) -> list[etree._Element]:
    items = [
        el
        for el in index.classed(*_ITEM_CLASSES)
        if el.tag in _ITEM_TAGS_THREADED and not _in_widget(el)
    ]
    with_id = [el for el in items if el.get("id")]
    if with_id:
        # Drupal and others put the id on an outer box and class "comment" on an inner one too
        items = with_id
    # items a theme marks by their id alone (`<li id="comment-9">` in a list of pings)
    known = set(items)
    boxes = []  # `div`/`article` ids count only as a thread of two or more, outside microformats
    for el in _ID_ITEMS(index.tree):
        if el in known or not _ID_PATTERN.match(el.get("id", "")) or _in_widget(el):
            continue
        if any(a in known for a in el.iterancestors()) or any(d in known for d in el.iter()):
            continue
        (items if el.tag == "li" else boxes).append(el)
    if len(boxes) >= 2 and not any(_MF_ITEM.search(el.get("class", "")) for el in boxes):
        items.extend(boxes)
    if len(items) > len(known):
        # "//li" searches the whole document, which may hold more than `index.tree`
        order = {el: i for i, el in enumerate(index.tree.getroottree().iter())}
        items.sort(key=lambda el: order.get(el, len(order)))
    return items


_WIDGET = re.compile(
    r"^(?:widget\S*|\S*-widget|sidebar\S*|\S*-sidebar|wp-block-latest-comments\S*|"
    r"recentcomments|\S*recent-comments\S*|\S*latest-comments\S*)$"
)


def _in_widget(el: etree._Element) -> bool:
    """Inside a sidebar/"latest comments" widget (which lists comments of other posts)."""
    for node in chain((el,), el.iterancestors()):
        if node.tag in ("aside", "nav"):
            return True
        if node.tag in ("body", "html"):
            return False
        if any(_WIDGET.match(t) for t in node.get("class", "").lower().split()):
            return True
    return False


def _comment_id(el: etree._Element, position: int) -> str:
    raw = el.get("id") or ""
    m = _ID_PATTERN.match(raw)
    if m:
        return m.group(1) or m.group(2)
    if raw:
        return raw
    for anchor in el.xpath(".//a[starts-with(@href, '#comment-')]/@href")[:1]:
        return anchor[len("#comment-") :]
    return str(position)


def _from_threaded(index: PageIndex) -> list[dict]:
    items = _threaded_items(index)
    if not items:
        return []
    item_set = set(items)
    comments: list[dict] = []
    ids: dict[etree._Element, str] = {}
    for position, el in enumerate(items, 1):
        cid = _comment_id(el, position)
        ids[el] = cid
        parent = next((a for a in el.iterancestors() if a in item_set), None)
        parent_id = ids.get(parent) if parent is not None else None
        if parent_id is None:
            parent_id = el.get("data-parent-id") or el.get("data-parent") or None
            if parent_id in ("0", ""):
                parent_id = None
        kind = _kind(el, norm_ws(comment_text(el, skip_meta=False))[:40])

        author_el = None
        for xp in _AUTHOR_XPATHS:
            author_el = _first_owned(el, item_set, xp)
            if author_el is not None and _inline(author_el):
                break
        author = _inline(author_el) if author_el is not None else None
        author = re.sub(r"\s*(?:says|sagt|schreibt|dit|dice|zegt):?$", "", author or "") or None
        if author and kind != "comment":
            author = _PING_LABEL.sub("", author).strip() or None

        published = None
        for xp in _DATE_XPATHS:
            published = _date_of(_first_owned(el, item_set, xp))
            if published:
                break

        text = ""
        for i, xp in enumerate(_CONTENT_XPATHS):
            box = _first_owned(el, item_set, xp)
            if box is not None:
                text = comment_text(box)
                if i == 1 and kind != "comment" and author and text.endswith(author):
                    text = ""  # "Pingback: <a>Site</a>": the theme prints no excerpt
                break
        else:
            box = _content_box(el, item_set)
            if box is not None:
                text = comment_text(box)
            elif kind == "comment":  # no box named: the item's own text, less replies and byline
                skip = {d for d in el.iterdescendants() if d in item_set}
                if author_el is not None:
                    skip.add(author_el)
                text = comment_text(el, skip=skip)
        if not text and not author:
            continue
        comments.append(
            {
                "id": cid,
                "parent_id": parent_id,
                "author": author,
                "published": published,
                "text": text,
                "type": kind,
                _BOX: el,
            }
        )
    return comments


# --------------------------------------------------------------------------- sections

# the element a theme wraps its comment thread in, by its id or class word (2005-2015 themes:
# `#comments`, `ol.commentlist`, Blogger's `#comments-block`, Disqus' rendered `#dsq-comments`,
# Movable Type's one `div.commentbody` a comment)
_SECTION_WORD = re.compile(
    r"^(?:comments?|comment-?list(?:ing)?|comments?[-_](?:block|section|area|wrap|wrapper"
    r"|container|thread|list|holder|body)|comment_list|disqus_thread|dsq-comments"
    r"|dsq-content|reader-?comments|user-?comments|comment-?(?:body|entry|item|box))$",
    re.IGNORECASE,
)
_SECTION_XPATH = _xp("//*[@id or @class]")
_SECTION_TAGS = frozenset({"div", "section", "ol", "ul", "dl", "table", "tbody", "aside"})
_ONE_CHILD = 0.7  # a child with this share of the text is the wrapper of the thread: go in
_ITEMS_SHARE = 0.6  # repeated children with this share of the text are the comments
_MIN_ITEM_WORDS = 3
# boxes a comment comes in (paragraphs side by side are one text: the form's notes, or a comment)
_ITEM_TAGS = frozenset({"li", "div", "article", "section", "dd", "tr", "table", "blockquote"})
_SECTION_DEPTH = 8


def _text_size(el: etree._Element) -> int:
    return len(norm_ws(comment_text(el, skip_meta=False)))


_SIDEBAR = re.compile(
    r"^(?:sidebar\S*|\S*-sidebar|wp-block-latest-comments\S*|recentcomments"
    r"|\S*recent-?comments\S*|\S*latest-?comments\S*)$"
)


def _in_sidebar(el: etree._Element) -> bool:
    """In a sidebar or a "latest comments" list (Blogger and others wrap the post itself in a
    "widget" too, so that word alone does not count here)."""
    for node in chain((el,), el.iterancestors()):
        if node.tag in ("aside", "nav"):
            return True
        if any(_SIDEBAR.match(t) for t in node.get("class", "").lower().split()):
            return True
    return False


def _thread_sections(tree: etree._Element) -> list[etree._Element]:
    """Outermost elements named like a comment thread, outside widgets and the post's text."""
    found = []
    for el in _SECTION_XPATH(tree):
        if not isinstance(el.tag, str) or el.tag not in _SECTION_TAGS:
            continue
        words = f"{el.get('id') or ''} {el.get('class') or ''}".split()
        if not any(_SECTION_WORD.match(w) for w in words) or _in_sidebar(el):
            continue
        if el.find(".//h1") is not None:
            continue  # a wrapper around the whole post, not its thread
        found.append(el)
    ids = {id(el) for el in found}
    return [el for el in found if not any(id(a) in ids for a in el.iterancestors())]


def _section_kind(section: etree._Element) -> tuple[str, str]:
    """Its tag and the thread word it is named by (`commentbody by-drno` and `commentbody
    by-nick-p` are alike)."""
    words = f"{section.get('id') or ''} {section.get('class') or ''}".split()
    return section.tag, next((w.lower() for w in words if _SECTION_WORD.match(w)), "")


def _section_items(section: etree._Element) -> list[tuple[etree._Element, etree._Element | None]]:
    """The comments of a thread section as (box, header): the repeated children one level
    holds most of the text in (`li` of a list, `div` of a box); Blogger's and other themes'
    `<dt>` author line and `<dd>` text pairs come as (dd, dt)."""
    node = section
    for _ in range(_SECTION_DEPTH):
        kids = [
            c
            for c in node
            if isinstance(c.tag, str) and c.tag not in _SKIP_TAGS and not is_hidden(c)
        ]
        sizes = [_text_size(c) for c in kids]
        total = sum(sizes)
        if not total:
            return []
        if any(c.tag == "dd" for c in kids) and any(c.tag == "dt" for c in kids):
            pairs = []
            header = None
            for c in kids:
                if c.tag == "dt":
                    header = c
                elif c.tag == "dd":
                    pairs.append((c, header))
                    header = None
            return pairs
        by_tag: dict[str, int] = {}
        count: dict[str, int] = {}
        for c, size in zip(kids, sizes, strict=True):
            by_tag[c.tag] = by_tag.get(c.tag, 0) + size
            count[c.tag] = count.get(c.tag, 0) + 1
        biggest = max(range(len(kids)), key=sizes.__getitem__)
        if sizes[biggest] >= _ONE_CHILD * total and len(kids[biggest]):
            node = kids[biggest]
            continue
        tag = max(by_tag, key=by_tag.__getitem__)
        if tag in _ITEM_TAGS and count[tag] >= 2 and by_tag[tag] >= _ITEMS_SHARE * total:
            return [(c, None) for c in kids if c.tag == tag]
        return []
    return []


_CONTROLS = _xp(".//input | .//textarea | .//select | .//button | .//iframe | .//label")


def _is_chrome(box: etree._Element, text: str) -> bool:
    """A box of the thread that is no comment: the sign-in row, the form's notes, a row of
    links (log in with ..., pages of the thread)."""
    if _CONTROLS(box):
        return True
    linked = sum(len(norm_ws(a.text_content())) for a in box.iter("a"))
    return linked > 0.5 * len(norm_ws(text))


def _from_sections(tree: etree._Element) -> list[dict]:
    """Comments of themes that mark the thread but not each comment in a way the other
    readers know: the thread's repeated boxes, each one comment (no reply parents)."""
    comments: list[dict] = []
    sections = _thread_sections(tree)
    alike = Counter(_section_kind(section) for section in sections)
    for section in sections:
        links = sum(len(norm_ws(a.text_content())) for a in section.iter("a"))
        if links > 0.5 * max(_text_size(section), 1):
            continue  # a list of links to comments elsewhere
        repeated = alike[_section_kind(section)] > 1  # one box per comment
        for box, header in [(section, None)] if repeated else _section_items(section):
            text = comment_text(box)
            if len(text.split()) < _MIN_ITEM_WORDS or _is_chrome(box, text):
                continue
            author_el = None
            for owner in (header, box):
                for xp in _AUTHOR_XPATHS[:-1]:
                    found = xp(owner) if owner is not None else []
                    if found and _inline(found[0]):
                        author_el = found[0]
                        break
                if author_el is not None:
                    break
            author = _inline(author_el) if author_el is not None else None
            author = re.sub(
                r"\s*(?:says|sagt|schreibt|dit|dice|zegt|said)\.{0,3}:?$", "", author or ""
            )
            published = None
            for owner in (header, box):
                for xp in _DATE_XPATHS:
                    published = _date_of(xp(owner)[0]) if owner is not None and xp(owner) else None
                    if published:
                        break
                if published:
                    break
            position = len(comments) + 1
            comments.append(
                {
                    "id": _comment_id(box, position) if box.get("id") else str(position),
                    "parent_id": None,
                    "author": author or None,
                    "published": published,
                    "text": text,
                    "type": _kind(box, norm_ws(text)[:40]),
                    _BOX: box,
                }
            )
    return comments


# --------------------------------------------------------------------------- anchors

# old TypePad and Movable Type threads: no box at all, an empty `<a id="c64426804">` before
# each comment's paragraphs and a "Posted by: <a>Name</a> | date" line after them
_ANCHOR_XPATH = _xp("//a[@id or @name][not(*)][normalize-space() = '']")
_POSTED = re.compile(r"^\s*(?:posted|written|geschrieben|verfasst) (?:by|von):?\s*", re.I)
_POSTED_END = re.compile(r"\s*(?:\||\bat\b|\bon\b|\bam\b|\bum\b|,).*$", re.I)


def _is_posted_line(el: etree._Element) -> bool:
    return "posted" in _tokens(el) or bool(_POSTED.match(el.text_content() or ""))


def _from_anchors(tree: etree._Element) -> list[dict]:
    """Comments of a flat thread: each starts at an empty anchor named like a comment id and
    runs to its "Posted by" line (or the next anchor); all anchors share one parent."""
    anchors = [
        a
        for a in _ANCHOR_XPATH(tree)
        if _ID_PATTERN.match(a.get("id") or a.get("name") or "") and not _in_sidebar(a)
    ]
    if len(anchors) < 2:
        return []
    parent = anchors[0].getparent()
    anchors = [a for a in anchors if a.getparent() is parent]
    if len(anchors) < 2:
        return []
    starts = set(anchors)
    comments: list[dict] = []
    for position, anchor in enumerate(anchors, 1):
        parts: list[etree._Element] = []
        posted = None
        for el in anchor.itersiblings():
            if not isinstance(el.tag, str):
                continue
            if el in starts or el.tag in _HEADINGS_TAGS:
                break
            if el.tag == "form" or _CONTROLS(el):
                break
            if _is_posted_line(el):
                posted = el
                break
            parts.append(el)
        text = "\n\n".join(t for t in (comment_text(p) for p in parts) if t)
        if len(text.split()) < _MIN_ITEM_WORDS:
            continue
        author = None
        if posted is not None:
            link = posted.find(".//a")
            line = _inline(link) if link is not None else ""
            if not line:
                line = _POSTED_END.sub("", _POSTED.sub("", _inline(posted)))
            author = line or None
        m = _ID_PATTERN.match(anchor.get("id") or anchor.get("name") or "")
        comments.append(
            {
                "id": (m.group(1) or m.group(2)) if m else str(position),
                "parent_id": None,
                "author": author,
                "published": None,
                "text": text,
                "type": "comment",
                _BOX: parts + ([posted] if posted is not None else []),
            }
        )
    return comments


_HEADINGS_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


# --------------------------------------------------------------------------- microdata

_MICRODATA_XPATH = _xp(
    "//*[@itemscope][contains(@itemtype, 'schema.org/Comment')"
    " or contains(@itemtype, 'schema.org/UserComments')]"
)


def _from_microdata(tree: etree._Element) -> list[dict]:
    items = [el for el in _MICRODATA_XPATH(tree) if not _in_widget(el)]
    if not items:
        return []
    item_set = set(items)
    comments = []
    ids: dict[etree._Element, str] = {}
    for position, el in enumerate(items, 1):
        cid = el.get("id") or el.get("itemid") or ""
        m = _ID_PATTERN.match(cid)
        cid = (m.group(1) or m.group(2)) if m else (cid.rsplit("#", 1)[-1] or str(position))
        ids[el] = cid
        parent = next((a for a in el.iterancestors() if a in item_set), None)

        def prop(*names: str, el: etree._Element = el) -> etree._Element | None:
            for name in names:
                found = _owned(el.xpath(f".//*[@itemprop='{name}']"), el, item_set)
                # a property of a nested item (the author's Person) belongs to that item
                found = [f for f in found if _item_owner(f) is el]
                if found:
                    return found[0]
            return None

        author_el = prop("author", "creator")
        author = None
        if author_el is not None:
            name = [n for n in author_el.xpath(".//*[@itemprop='name']")]
            author = _inline(name[0]) if name else _inline(author_el)
            if not author and name:
                author = name[0].get("content")
        date_el = prop("dateCreated", "datePublished", "commentTime", "dateModified")
        published = _date_of(date_el)
        if published is None and date_el is not None:
            published = iso_aware(parse_datetime(date_el.text or ""))
        text_el = prop("text", "commentText", "description")
        text = comment_text(text_el, skip_meta=False) if text_el is not None else ""
        if not text and not author:
            continue
        comments.append(
            {
                "id": cid,
                "parent_id": ids.get(parent) if parent is not None else None,
                "author": author or None,
                "published": published,
                "text": text,
                "type": "comment",
                _BOX: el,
            }
        )
    return comments


def _item_owner(el: etree._Element) -> etree._Element | None:
    return next((a for a in el.iterancestors() if a.get("itemscope") is not None), None)


# --------------------------------------------------------------------------- microformats

_MF_COMMENT_CLASSES = ("u-comment", "p-comment")


def _mf_props(root: etree._Element, prefix: tuple[str, ...]) -> dict[str, list[etree._Element]]:
    """The microformats properties of ``root`` itself (not of nested h-* objects)."""
    props: dict[str, list[etree._Element]] = {}
    for el in root.iter(etree.Element):
        if el is root:
            continue
        toks = _tokens(el)
        wanted = [t for t in toks if t.startswith(prefix)]
        if not wanted:
            continue
        owner = next(
            (a for a in el.iterancestors() if any(t.startswith("h-") for t in _tokens(a))), None
        )
        if owner is root:
            for tok in wanted:
                props.setdefault(tok, []).append(el)
    return props


def _from_microformats(index: PageIndex) -> list[dict]:
    items = [
        el
        for el in index.classed(*_MF_COMMENT_CLASSES)
        if any(t.startswith("h-") for t in _tokens(el)) and not _in_widget(el)
    ]
    if not items:
        return []
    item_set = set(items)
    comments = []
    ids: dict[etree._Element, str] = {}
    for position, el in enumerate(items, 1):
        props = _mf_props(el, ("p-", "u-", "dt-", "e-"))
        cid = el.get("id") or ""
        if not cid:
            url = next((u.get("href") for u in props.get("u-url", []) if u.get("href")), "")
            cid = url.rsplit("#", 1)[-1] if "#" in url else ""
        m = _ID_PATTERN.match(cid)
        cid = (m.group(1) or m.group(2)) if m else (cid or str(position))
        ids[el] = cid
        parent = next((a for a in el.iterancestors() if a in item_set), None)
        parent_id = ids.get(parent) if parent is not None else None
        if parent_id is None:
            for reply in props.get("u-in-reply-to", []):
                target = (reply.get("href") or "").rsplit("#", 1)[-1]
                m = _ID_PATTERN.match(target)
                if m and "#" in (reply.get("href") or ""):
                    parent_id = m.group(1) or m.group(2)
        author = None
        for author_el in props.get("p-author", []) + props.get("u-author", []):
            names = [n for n in author_el.iter(etree.Element) if "p-name" in _tokens(n)]
            author = _inline(names[0]) if names else _inline(author_el)
            if author:
                break
        published = None
        for date_el in props.get("dt-published", []):
            published = _date_of(date_el) or iso_aware(parse_datetime(_inline(date_el)))
            if published:
                break
        text_el = next(
            chain(
                props.get("e-content", []),
                props.get("p-content", []),
                props.get("p-summary", []),
                props.get("p-name", []),
            ),
            None,
        )
        text = comment_text(text_el, skip_meta=False) if text_el is not None else ""
        kind = _kind(el)
        if not text and not author:
            continue
        comments.append(
            {
                "id": cid,
                "parent_id": parent_id,
                "author": author,
                "published": published,
                "text": text,
                "type": kind,
                _BOX: el,
            }
        )
    return comments


# --------------------------------------------------------------------------- JSON-LD


def _from_jsonld(tree: etree._Element) -> list[dict]:
    comments: list[dict] = []
    seen: set[int] = set()

    def add(obj: dict, parent_id: str | None) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        raw_id = obj.get("@id") or obj.get("url") or ""
        raw_id = raw_id.rsplit("#", 1)[-1] if isinstance(raw_id, str) else ""
        m = _ID_PATTERN.match(raw_id)
        cid = (m.group(1) or m.group(2)) if m else (raw_id or str(len(comments) + 1))
        author = obj.get("author") or obj.get("creator")
        if isinstance(author, list):
            author = author[0] if author else None
        if isinstance(author, dict):
            author = author.get("name")
        date = obj.get("dateCreated") or obj.get("datePublished")
        text = obj.get("text") or obj.get("commentText") or obj.get("description") or ""
        if isinstance(text, str) and "<" in text:
            try:
                text = comment_text(lxml_html.fragment_fromstring(text, create_parent="div"))
            except (etree.ParserError, ValueError):
                text = norm_ws(re.sub(r"<[^>]+>", " ", text))
        elif isinstance(text, str):
            text = "\n\n".join(
                "\n".join(norm_ws(line) for line in para.split("\n") if norm_ws(line))
                for para in re.split(r"\n\s*\n", text)
                if para.strip()
            )
        comments.append(
            {
                "id": cid,
                "parent_id": parent_id,
                "author": norm_ws(author) if isinstance(author, str) else None,
                "published": iso_aware(parse_datetime(date)) if isinstance(date, str) else None,
                "text": text if isinstance(text, str) else "",
                "type": "comment",
            }
        )
        replies = obj.get("comment") or obj.get("replies") or []
        for reply in replies if isinstance(replies, list) else [replies]:
            if isinstance(reply, dict):
                add(reply, cid)

    for obj in iter_jsonld_of_type(tree, {"comment"}):
        add(obj, None)
    return comments


# --------------------------------------------------------------------------- JS systems

# name: (element ids, class tokens, tag names, script src substrings, inline script substrings)
_SYSTEMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "disqus": (
        ("disqus_thread",),
        (),
        (),
        ("disqus.com",),
        ("disqus_shortname", "disqus_config", ".disqus.com/embed.js"),
    ),
    "facebook": ((), ("fb-comments",), ("fb:comments",), (), ()),
    "commento": (("commento",), (), (), ("commento",), ()),
    "isso": (("isso-thread",), (), (), ("/isso/", "isso.min.js"), ()),
    "utterances": ((), ("utterances",), (), ("utteranc.es",), ()),
    "giscus": ((), ("giscus",), ("giscus-widget",), ("giscus.app",), ()),
    "hyvor": (("hyvor-talk-view",), (), ("hyvor-talk-comments",), ("talk.hyvor.com",), ()),
    "remark42": (("remark42",), (), (), (), ("remark_config",)),
    "cusdis": (("cusdis_thread",), (), (), ("cusdis.com",), ()),
    "intensedebate": (("idc-container",), (), (), ("intensedebate",), ()),
    "livefyre": (("livefyre-comments", "livefyre"), (), (), ("livefyre",), ()),
    "coral": (("coral_thread",), (), (), ("coral.js", "/coral/"), ()),
    "graphcomment": (("graphcomment",), (), (), ("graphcomment",), ()),
    "talkyard": ((), ("talkyard-comments",), (), ("talkyard",), ()),
    "vuukle": (("vuukle-comments",), ("vuukle-comments",), (), ("vuukle",), ()),
    "waline": (("waline",), (), (), ("waline",), ()),
    "twikoo": (("tcomment",), (), (), ("twikoo",), ()),
    "valine": (("vcomments",), (), (), ("valine",), ()),
    "cactus": ((), (), (), ("cactus.chat",), ()),
    "hashover": (("hashover",), (), (), ("hashover",), ()),
    "mastodon": ((), (), ("mastodon-comments",), ("mastodon-comments",), ()),
}
_SYSTEM_TAGS = tuple({t for spec in _SYSTEMS.values() for t in spec[2]})


def _js_system(tree: etree._Element, index: PageIndex) -> str | None:
    """The JavaScript comment system the page embeds, if any (one pass over ids and scripts)."""
    ids = set(tree.xpath("//@id"))
    tags = {el.tag for el in tree.iter(*_SYSTEM_TAGS)}
    if "isso" not in tags and tree.xpath("//script[@data-isso]"):
        tags.add("script[data-isso]")
    srcs: list[str] = []
    inline: list[str] = []
    for script in tree.iter("script"):
        src = script.get("src")
        if src:
            srcs.append(src.lower())
        elif script.text:
            inline.append(script.text)
    src_text = "\n".join(srcs)
    inline_text = "\n".join(inline)
    for name, (el_ids, classes, tag_names, src_parts, inline_parts) in _SYSTEMS.items():
        if (
            any(i in ids for i in el_ids)
            or any(c in index.by_class for c in classes)
            or any(t in tags for t in tag_names)
            or any(p in src_text for p in src_parts)
            or any(p in inline_text for p in inline_parts)
            or (name == "isso" and "script[data-isso]" in tags)
        ):
            return name
    return None


# --------------------------------------------------------------------------- entry point


_BOX = "_box"  # the element a reader read a comment from (not a Comment field)


@dataclass
class CommentsFound:
    """What `find_comments` found: the comments (``schemas.post.Comment`` fields), their
    status and system, and the page's elements they were read from (`boxes`, outermost only:
    no body holds them)."""

    comments: list[dict[str, Any]]
    status: str
    system: str | None
    boxes: list[etree._Element] = field(default_factory=list)


def find_comments(tree: lxml_html.HtmlElement, url: str) -> CommentsFound:
    """The comments of a post page, and the elements of `tree` that hold them.

    Each comment is a dict of ``schemas.post.Comment`` fields (``published`` an ISO 8601 string
    with offset), in page order; status ``captured``, ``none`` or ``not_captured`` (comments
    loaded by JavaScript: ``system`` names the system, e.g. ``disqus``).
    """
    index = PageIndex(tree)
    comments = (
        _from_threaded(index)
        or _from_microdata(tree)
        or _from_microformats(index)
        or _from_jsonld(tree)
        or _from_sections(tree)
        or _from_anchors(tree)
    )
    boxes = [box for c in comments if _BOX in c for box in _as_list(c.pop(_BOX))]
    if comments:
        seen: set[str] = set()
        unique = []
        for comment in comments:  # the schema forbids duplicate ids
            if comment["id"] not in seen:
                seen.add(comment["id"])
                unique.append(comment)
        known = {c["id"] for c in unique}
        for comment in unique:
            if comment["parent_id"] is not None and comment["parent_id"] not in known:
                comment["parent_id"] = str(comment["parent_id"])
        return CommentsFound(unique, "captured", None, _outermost(boxes))
    system = _js_system(tree, index)
    if system:
        return CommentsFound([], "not_captured", system)
    return CommentsFound([], "none", None)


def _as_list(box: etree._Element | list[etree._Element]) -> list[etree._Element]:
    return box if isinstance(box, list) else [box]


def _outermost(boxes: list[etree._Element]) -> list[etree._Element]:
    """The boxes not inside another one, and none that holds the page's title heading."""
    inside = set(boxes)
    return [
        box
        for box in boxes
        if not any(a in inside for a in box.iterancestors()) and box.find(".//h1") is None
    ]


def extract_comments(
    tree: lxml_html.HtmlElement, url: str
) -> tuple[list[dict[str, Any]], str, str | None]:
    """(comments, comments_status, comments_system) of a post page (see `find_comments`)."""
    found = find_comments(tree, url)
    return found.comments, found.status, found.system


_COMMENT_ID_IN_LINK = re.compile(r"#comment-(\d+)$|[?&]replytocom=(\d+)|#c(\d+)$")


def comments_from_feed(items: Iterable[tuple[str, str | None, str | None, str | None]]) -> dict:
    """A post's comment feed as {comment id: {author, published, text}}.

    `items` are (link, author, published ISO date, content HTML) of the feed's entries; the
    comment id comes from the link's `#comment-N` fragment. Used to fill in what a theme
    leaves out of the page (WordPress classic themes print pingbacks without their text).
    """
    found: dict[str, dict] = {}
    for link, author, published, content_html in items:
        match = _COMMENT_ID_IN_LINK.search(link or "")
        if not match:
            continue
        text = ""
        if content_html:
            fragment = lxml_html.fragment_fromstring(content_html, create_parent="div")
            text = comment_text(fragment, skip_meta=False)
        cid = next(group for group in match.groups() if group)
        found[cid] = {"author": author, "published": published, "text": text}
    return found
