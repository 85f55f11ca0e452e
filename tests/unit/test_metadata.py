"""extract_metadata: the blogfarm snapshot in all three themes, plus small synthetic pages."""

from __future__ import annotations

from datetime import datetime

import lxml.html
import pytest
from lxml import etree

from crawler.extract.metadata import extract_metadata, norm_ws, parse_datetime
from crawler.extract.types import Hints
from tests.blogfarm import BLOGFARM, groundtruth, recorded_page

HAVE_BLOGFARM = (BLOGFARM / "groundtruth.jsonl").exists()
needs_blogfarm = pytest.mark.skipif(not HAVE_BLOGFARM, reason=f"no blogfarm in {BLOGFARM}")


def _cases() -> list:
    if not HAVE_BLOGFARM:
        return []
    return [
        pytest.param(rec, theme, url, id=f"{theme}-{rec['id']}-{rec['slug']}")
        for rec in groundtruth()
        for theme, url in rec["urls_by_theme"].items()
    ]


def _tree(url: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(recorded_page(url).body)


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    dt = datetime.fromisoformat(value)
    assert dt.tzinfo is not None, f"not timezone-aware: {value}"
    return dt


# --------------------------------------------------------------------------- snapshot


@needs_blogfarm
@pytest.mark.parametrize(("rec", "theme", "url"), _cases())
def test_snapshot_metadata(rec: dict, theme: str, url: str) -> None:
    meta = extract_metadata(_tree(url), url)
    # WordPress puts a no-break space into some titles; the extractor collapses whitespace
    assert meta["title"] == norm_ws(rec["title"])
    assert sorted(meta["categories"]) == sorted(rec["categories"])
    assert sorted(meta["tags"]) == sorted(rec["tags"])
    assert meta["language"] == rec["lang"]
    assert meta["canonical_url"] == url
    assert meta["site_name"] == "Blogfarm Testblog"
    if rec["type"] == "post":
        assert meta["authors"] == [rec["author"]]
        assert _instant(meta["published"]) == _instant(rec["published"])
        assert meta["sources"]["authors"] == "byline"
        assert meta["sources"]["published"] == "byline"
        expected_lang_source = "langid" if rec["lang"] == "en" else "html-lang"
        assert meta["sources"]["language"] == expected_lang_source
    else:
        # WordPress pages show neither author nor date in these themes: nothing is invented
        assert meta["authors"] == []
        assert meta["published"] is None
        assert "authors" not in meta["sources"] and "published" not in meta["sources"]


@needs_blogfarm
@pytest.mark.parametrize(
    ("rec", "theme", "url"), [c for c in _cases() if c.values[0]["type"] == "page"]
)
def test_snapshot_pages_take_author_and_date_from_hints(rec: dict, theme: str, url: str) -> None:
    hints = Hints(authors=[rec["author"]], published=rec["published"], in_feed=True)
    meta = extract_metadata(_tree(url), url, hints)
    assert meta["authors"] == [rec["author"]]
    assert _instant(meta["published"]) == _instant(rec["published"])
    assert meta["sources"]["authors"] == meta["sources"]["published"] == "feed"


@needs_blogfarm
def test_snapshot_tree_is_not_mutated() -> None:
    rec = next(r for r in groundtruth() if r["comments"])
    for url in rec["urls_by_theme"].values():
        tree = _tree(url)
        before = etree.tostring(tree)
        extract_metadata(tree, url, Hints(categories=["x"]))
        assert etree.tostring(tree) == before


# --------------------------------------------------------------------------- synthetic pages


def _page(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html)


JSONLD_ONLY = """<!doctype html><html><head><title>Ignored | Example</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebSite", "@id": "https://ex.org/#site", "name": "Example Blog"},
  {"@type": "Person", "@id": "https://ex.org/#ann", "name": "Ann Author"},
  {"@type": "WebPage", "@id": "https://ex.org/p/#page", "name": "Ignored | Example",
   "datePublished": "1999-01-01T00:00:00Z"},
  {"@type": "BlogPosting", "headline": "Hello JSON-LD", "author": {"@id": "https://ex.org/#ann"},
   "datePublished": "2021-03-04T05:06:07+01:00", "dateModified": "2021-03-05T00:00:00Z",
   "articleSection": ["News", "Tech"], "keywords": "alpha, beta",
   "description": "A summary.", "image": {"@type": "ImageObject", "url": "/img/a.jpg"},
   "mainEntityOfPage": "https://ex.org/p/", "isPartOf": {"@id": "https://ex.org/#site"}}
]}
</script></head><body><main><p>Ein kurzer deutscher Text, nur damit es etwas zu lesen gibt,
und zwar mit genug Wörtern für die Spracherkennung.</p></main></body></html>"""


def test_jsonld_only_page() -> None:
    meta = extract_metadata(_page(JSONLD_ONLY), "https://ex.org/p/")
    assert meta["title"] == "Hello JSON-LD"
    assert meta["authors"] == ["Ann Author"]
    assert meta["published"] == "2021-03-04T05:06:07+01:00"
    assert _instant(meta["updated"]) == _instant("2021-03-05T00:00:00+00:00")
    assert meta["categories"] == ["News", "Tech"]
    assert meta["tags"] == ["alpha", "beta"]
    assert meta["description"] == "A summary."
    assert meta["image"] == "https://ex.org/img/a.jpg"
    assert meta["canonical_url"] == "https://ex.org/p/"
    assert meta["site_name"] == "Example Blog"
    assert meta["language"] == "de"  # no lang attribute: detected from the text
    for field in ("title", "authors", "published", "categories", "tags", "image"):
        assert meta["sources"][field] == "json-ld", field
    assert meta["sources"]["language"] == "langid"


OPENGRAPH_ONLY = """<html lang="en"><head>
<title>Trip report – The Travel Log</title>
<meta property="og:title" content="Trip report" />
<meta property="og:site_name" content="The Travel Log" />
<meta property="og:description" content="Where we went." />
<meta property="og:image" content="https://cdn.ex.org/trip.jpg" />
<meta property="og:url" content="https://travel.ex.org/trip/" />
<meta property="article:published_time" content="2018-06-01T10:00:00+00:00" />
<meta property="article:modified_time" content="2018-06-02T10:00:00+00:00" />
<meta property="article:author" content="https://facebook.com/someone" />
<meta property="article:section" content="Travel" />
<meta property="article:tag" content="Norway" /><meta property="article:tag" content="Fjords" />
<meta name="author" content="Bob Writer" />
</head><body><div class="content"><p>We took the ferry along the fjord and watched the
mountains go by for hours; it rained, of course.</p></div></body></html>"""


def test_opengraph_only_page() -> None:
    meta = extract_metadata(_page(OPENGRAPH_ONLY), "https://travel.ex.org/trip/?utm=1")
    assert meta["title"] == "Trip report"
    assert meta["site_name"] == "The Travel Log"
    assert meta["description"] == "Where we went."
    assert meta["image"] == "https://cdn.ex.org/trip.jpg"
    assert meta["canonical_url"] == "https://travel.ex.org/trip/"
    assert meta["published"] == "2018-06-01T10:00:00+00:00"
    assert meta["updated"] == "2018-06-02T10:00:00+00:00"
    assert meta["categories"] == []  # article:section alone is no category
    assert meta["tags"] == ["Norway", "Fjords"]
    confirmed = extract_metadata(_page(OPENGRAPH_ONLY), "https://travel.ex.org/trip/",
                                 Hints(categories=["Travel", "Norway"]))  # fmt: skip
    assert confirmed["categories"] == ["Travel"]  # the feed confirms the section
    assert meta["authors"] == ["Bob Writer"]  # article:author is a URL: <meta name=author> wins
    assert meta["language"] == "en"
    assert meta["sources"]["title"] == "opengraph"
    assert meta["sources"]["published"] == "opengraph"
    assert meta["sources"]["authors"] == "meta"


def test_title_tag_minus_site_name() -> None:
    html = """<html><head><title>My first post &#8211; Tiny Blog</title>
    <meta property="og:site_name" content="Tiny Blog"></head><body><p>x</p></body></html>"""
    meta = extract_metadata(_page(html), "https://tiny.ex.org/first/")
    assert meta["title"] == "My first post"
    assert meta["sources"]["title"] == "title-tag"


HENTRY = """<html lang="en"><body>
<article class="h-entry">
  <h1 class="p-name">Notes on microformats</h1>
  <a class="p-author h-card" href="https://carol.ex.org/"><span class="p-name">Carol M.</span></a>
  <time class="dt-published" datetime="2022-02-02T20:22:00-05:00">Feb 2</time>
  <a class="p-category" href="/tag/indieweb/">IndieWeb</a>
  <div class="e-content"><p>Marking up posts with classes is a small thing that
  helps readers and machines alike, and it costs almost nothing to do.</p></div>
  <div class="u-comment h-cite" id="comment-7">
    <a class="p-author h-card" href="https://dan.ex.org/"><span class="p-name">Dan</span></a>
    <time class="dt-published" datetime="2030-01-01T00:00:00Z">later</time>
    <p class="p-content">Nice post!</p>
  </div>
</article></body></html>"""


def test_hentry_microformats_page() -> None:
    meta = extract_metadata(_page(HENTRY), "https://carol.ex.org/notes/")
    assert meta["title"] == "Notes on microformats"
    assert meta["authors"] == ["Carol M."]  # never the commenter
    assert meta["published"] == "2022-02-02T20:22:00-05:00"
    assert meta["tags"] == ["IndieWeb"]  # p-category mixes both; its link is a tag archive
    assert meta["sources"]["title"] == meta["sources"]["authors"] == "microformats"
    assert meta["sources"]["published"] == "microformats"


SIDEBAR_DATE = """<html lang="en"><head><title>Quiet post – Blog</title></head><body>
<aside class="widget-area"><section class="widget widget_recent_entries"><h2>Recent posts</h2>
<ul><li><a href="/2024/05/05/newer/">Newer</a>
<time class="entry-date published" datetime="2024-05-05T09:00:00+00:00">May 5</time>
<span class="byline"><span class="author vcard"><a class="url fn n" href="/author/x/">Xavier
</a></span></span></li></ul></section></aside>
<div class="recent-posts"><time class="published" datetime="2024-04-04T09:00:00Z">x</time></div>
<article class="post hentry"><h1 class="entry-title">Quiet post</h1>
<div class="entry-content"><p>This post shows no date of its own, only the sidebar does,
and the sidebar must never be taken for the post.</p></div></article>
<div id="comments"><time datetime="2023-01-01T00:00:00Z">c</time></div>
</body></html>"""


def test_sidebar_recent_posts_date_never_wins() -> None:
    url = "https://ex.org/2020/01/02/quiet-post/"
    meta = extract_metadata(_page(SIDEBAR_DATE), url)
    assert meta["published"] == "2020-01-02T00:00:00+00:00"  # from the URL, not the widget
    assert meta["sources"]["published"] == "url"
    assert meta["authors"] == []
    # with a dated article, that date wins even though the widget comes first in the page
    dated = SIDEBAR_DATE.replace(
        '<h1 class="entry-title">Quiet post</h1>',
        '<h1 class="entry-title">Quiet post</h1><span class="posted-on">'
        '<time class="entry-date published" datetime="2020-01-02T08:30:00+01:00">2 Jan</time>'
        "</span>",
    )
    meta = extract_metadata(_page(dated), url)
    assert meta["published"] == "2020-01-02T08:30:00+01:00"
    assert meta["sources"]["published"] == "byline"


def test_byline_author_never_email_link() -> None:
    html = """<html><body><article class="post hentry"><h1 class="entry-title">T</h1>
    <div class="entry-meta"><span class="byline">By <span class="author vcard">
    <a class="url fn n" href="/author/eve/">Eve Example</a></span></span>
    <a class="fn" href="mailto:eve@ex.org">Email the author</a></div>
    <div class="entry-content"><p>Body.</p></div></article></body></html>"""
    meta = extract_metadata(_page(html), "https://ex.org/t/")
    assert meta["authors"] == ["Eve Example"]


def test_naive_page_time_takes_the_offset_of_the_feed_instant() -> None:
    html = """<html lang="de"><body><article class="post hentry"><h1 class="entry-title">T</h1>
    <time class="entry-date published" datetime="2019-05-12T15:20:00">12. Mai</time>
    <div class="entry-content"><p>Text.</p></div></article></body></html>"""
    url = "https://ex.org/2019/05/t/"
    hints = Hints(published="Sun, 12 May 2019 13:20:00 +0000")  # RSS pubDate, GMT
    meta = extract_metadata(_page(html), url, hints)
    assert meta["published"] == "2019-05-12T15:20:00+02:00"
    # an aware feed date for a different instant does not change an aware page date
    aware = html.replace('15:20:00"', '15:20:00+02:00"')
    meta = extract_metadata(_page(aware), url, Hints(published="2019-05-13T00:00:00Z"))
    assert meta["published"] == "2019-05-12T15:20:00+02:00"
    assert meta["sources"]["published"] == "byline"


def test_feed_categories_only_as_fallback() -> None:
    html = """<html><body><article class="post hentry"><h1 class="entry-title">T</h1>
    <span class="cat-links"><a href="/category/kochen/" rel="category tag">Kochen</a></span>
    <div class="entry-content"><p>Text.</p></div></article></body></html>"""
    hints = Hints(categories=["Kochen", "Rezept", "Brot"])
    meta = extract_metadata(_page(html), "https://ex.org/t/", hints)
    assert meta["categories"] == ["Kochen"]
    assert meta["tags"] == ["Rezept", "Brot"]  # the page lists no tags: the rest of the feed's
    assert meta["sources"]["categories"] == "byline" and meta["sources"]["tags"] == "feed"
    bare = html.replace("Kochen</a>", "</a>").replace('rel="category tag"', "")
    meta = extract_metadata(_page(bare), "https://ex.org/t/", hints)
    assert meta["categories"] == ["Kochen", "Rezept", "Brot"]
    assert meta["sources"]["categories"] == "feed"


def test_term_classes_on_the_article_are_not_term_boxes() -> None:
    # a post tagged "links"/"comments": WordPress writes tag-links tag-comments on the article
    html = """<html><body><article class="post hentry tag-links tag-comments category-sidebar">
    <h1 class="entry-title">T</h1><div class="entry-content"><p>See
    <a href="https://ex.org/a">this</a>.</p></div>
    <time class="entry-date published" datetime="2020-01-01T10:00:00+01:00">x</time>
    <span class="tags-links"><a href="/tag/links/" rel="tag">Links</a></span>
    </article></body></html>"""
    meta = extract_metadata(_page(html), "https://ex.org/t/")
    assert meta["tags"] == ["Links"]
    assert meta["published"] == "2020-01-01T10:00:00+01:00"


def test_synthetic_tree_not_mutated() -> None:
    for html in (JSONLD_ONLY, OPENGRAPH_ONLY, HENTRY, SIDEBAR_DATE):
        tree = _page(html)
        before = etree.tostring(tree)
        extract_metadata(tree, "https://ex.org/2020/01/02/x/", Hints(title="t"))
        assert etree.tostring(tree) == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019-05-12T15:20:00+02:00", "2019-05-12T15:20:00+02:00"),
        ("2019-05-12T13:20:00Z", "2019-05-12T13:20:00+00:00"),
        ("2019-05-12T15:20:00+0200", "2019-05-12T15:20:00+02:00"),
        ("Sun, 12 May 2019 13:20:00 +0000", "2019-05-12T13:20:00+00:00"),
        ("2019-05-12", "2019-05-12T00:00:00"),
        ("not a date", None),
        ("1970-01-01T00:00:00Z", None),
    ],
)
def test_parse_datetime(raw: str, expected: str | None) -> None:
    dt = parse_datetime(raw)
    assert (dt.isoformat() if dt else None) == expected
