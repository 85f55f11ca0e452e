"""extract_comments: the blogfarm snapshot in all three themes, plus small synthetic pages."""

from __future__ import annotations

import re
from datetime import datetime

import lxml.html
import pytest
from lxml import etree

from crawler.extract.comments import extract_comments
from schemas.post import Comment
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


def _as_groundtruth_text(text: str) -> str:
    """Our text separates paragraphs by a blank line (schemas.post.Comment); the ground truth
    writes one line per block (htmltext.py). Same lines, other separator."""
    return re.sub(r"\n{2,}", "\n", text)


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --------------------------------------------------------------------------- snapshot


@needs_blogfarm
@pytest.mark.parametrize(("rec", "theme", "url"), _cases())
def test_snapshot_comments(rec: dict, theme: str, url: str) -> None:
    comments, status, system = extract_comments(_tree(url), url)
    expected = rec["comments"]
    assert status == ("captured" if expected else "none")
    assert system is None
    assert [c["id"] for c in comments] == [str(e["id"]) for e in expected]  # page order
    for got, exp in zip(comments, expected, strict=True):
        Comment(**got)  # valid for the record model
        assert got["parent_id"] == (str(exp["parent"]) if exp["parent"] else None)
        assert got["type"] == exp["type"]
        if theme == "twentytwentyone" and exp["type"] == "pingback":
            # this theme prints a pingback as "Pingback: <a>site</a>": no excerpt, no date
            assert got["author"] == exp["author"]
            assert got["text"] == "" and got["published"] is None
            continue
        if got["author"] != exp["author"]:
            # the block themes print the author through wptexturize: ’ for '
            assert got["author"] == exp["author"].replace("'", "\u2019")
        assert _as_groundtruth_text(got["text"]) == exp["text"]
        assert _instant(got["published"]) == _instant(exp["date"])
        assert _instant(got["published"]).utcoffset() is not None
        for noise in ("Antworten", "sagt:", "Reply"):
            assert noise not in got["text"]


@needs_blogfarm
def test_snapshot_paragraphs_are_separated_by_a_blank_line() -> None:
    rec = next(r for r in groundtruth() if any(c["id"] == 10 for c in r["comments"]))
    expected = next(c for c in rec["comments"] if c["id"] == 10)["text"].split("\n")
    for url in rec["urls_by_theme"].values():
        comments, _, _ = extract_comments(_tree(url), url)
        got = next(c for c in comments if c["id"] == "10")
        assert got["text"].split("\n\n") == expected


@needs_blogfarm
def test_snapshot_tree_is_not_mutated() -> None:
    rec = max(groundtruth(), key=lambda r: r["comment_count"])
    for url in rec["urls_by_theme"].values():
        tree = _tree(url)
        before = etree.tostring(tree)
        extract_comments(tree, url)
        assert etree.tostring(tree) == before


# --------------------------------------------------------------------------- synthetic pages


def _run(html: str) -> tuple[list[dict], str, str | None]:
    return extract_comments(lxml.html.fromstring(html), "https://ex.org/post/")


ARTICLE = "<article class='post hentry'><h1>Post</h1><div class='entry-content'><p>Body</p></div>"


@pytest.mark.parametrize(
    ("snippet", "system"),
    [
        (
            "<div id='disqus_thread'></div><script>var disqus_config = function () {};</script>",
            "disqus",
        ),
        ("<script src='https://example.disqus.com/embed.js' async></script>", "disqus"),
        ("<div class='fb-comments' data-href='https://ex.org/post/'></div>", "facebook"),
        ("<script src='https://utteranc.es/client.js' repo='a/b' async></script>", "utterances"),
        ("<script src='https://giscus.app/client.js' async></script>", "giscus"),
        (
            "<div id='commento'></div><script src='https://cdn.commento.io/js/commento.js'>"
            "</script>",
            "commento",
        ),
        ("<section id='isso-thread'></section>", "isso"),
        ("<div id='hyvor-talk-view'></div>", "hyvor"),
    ],
)
def test_javascript_comment_systems_are_not_captured(snippet: str, system: str) -> None:
    comments, status, name = _run(f"<html><body>{ARTICLE}</article>{snippet}</body></html>")
    assert (comments, status, name) == ([], "not_captured", system)


def test_no_comments_section() -> None:
    html = f"""<html><body>{ARTICLE}</article><aside class="widget-area"><h2>Latest comments</h2>
    <ol class="wp-block-latest-comments"><li class="wp-block-latest-comments__comment">
    <article><footer><span class="wp-block-latest-comments__comment-author">Ann</span> on
    <a href="/other/#comment-3">Other</a></footer></article></li></ol>
    <ul><li class="recentcomments" id="comment-99"><span class="comment-author-link">Bo</span>
    </li></ul></aside></body></html>"""
    assert _run(html) == ([], "none", None)


def test_server_rendered_comments_win_over_a_js_system() -> None:
    html = f"""<html><body>{ARTICLE}</article><ol class="comment-list">
    <li id="comment-1" class="comment"><article class="comment-body">
    <div class="comment-author vcard"><b class="fn">Ann</b> <span class="says">says:</span></div>
    <div class="comment-metadata"><time datetime="2020-01-01T10:00:00+01:00">Jan 1</time></div>
    <div class="comment-content"><p>First line<br>second line</p><p>New paragraph</p></div>
    <div class="reply"><a class="comment-reply-link" href="?replytocom=1">Reply</a></div>
    </article>
    <ol class="children"><li id="comment-2" class="trackback"><div class="comment-body">
    Trackback: <a class="url" href="https://other.ex.org/">Other blog</a></div></li></ol>
    </li></ol><div id="disqus_thread"></div></body></html>"""
    comments, status, system = _run(html)
    assert (status, system) == ("captured", None)
    assert comments == [
        {
            "id": "1",
            "parent_id": None,
            "author": "Ann",
            "published": "2020-01-01T10:00:00+01:00",
            "text": "First line\nsecond line\n\nNew paragraph",
            "type": "comment",
        },
        {
            "id": "2",
            "parent_id": "1",
            "author": "Other blog",
            "published": None,
            "text": "",
            "type": "trackback",
        },
    ]


MICRODATA = """<html><body><article itemscope itemtype="https://schema.org/BlogPosting">
<h1 itemprop="headline">Post</h1><div itemprop="articleBody"><p>Body</p></div>
<div itemprop="comment" itemscope itemtype="https://schema.org/Comment" id="c-a">
  <span itemprop="author" itemscope itemtype="https://schema.org/Person">
    <span itemprop="name">Greta</span></span>
  <meta itemprop="dateCreated" content="2021-07-01T12:00:00+02:00">
  <div itemprop="text"><p>Great read.</p></div>
  <div itemprop="comment" itemscope itemtype="https://schema.org/Comment" id="c-b">
    <span itemprop="author">Hans</span>
    <time itemprop="dateCreated" datetime="2021-07-01T13:00:00Z">later</time>
    <p itemprop="text">Agreed.</p>
  </div>
</div></article></body></html>"""


def test_schema_org_comment_microdata() -> None:
    comments, status, system = _run(MICRODATA)
    assert (status, system) == ("captured", None)
    assert [(c["id"], c["parent_id"], c["author"], c["text"]) for c in comments] == [
        ("c-a", None, "Greta", "Great read."),
        ("c-b", "c-a", "Hans", "Agreed."),
    ]
    assert comments[0]["published"] == "2021-07-01T12:00:00+02:00"
    assert _instant(comments[1]["published"]) == _instant("2021-07-01T15:00:00+02:00")
    for c in comments:
        Comment(**c)


HENTRY = """<html><body><article class="h-entry"><h1 class="p-name">Post</h1>
<div class="e-content"><p>Body</p></div>
<div class="u-comment h-cite" id="comment-7">
  <a class="p-author h-card" href="https://dan.ex.org/"><span class="p-name">Dan</span></a>
  <a class="u-url" href="#comment-7"><time class="dt-published"
     datetime="2022-02-03T08:00:00+00:00">Feb 3</time></a>
  <div class="e-content"><p>Nice post!</p><p>Really.</p></div>
</div>
<div class="u-comment h-cite">
  <span class="p-author h-card"><span class="p-name">Eli</span></span>
  <a class="u-in-reply-to" href="https://ex.org/post/#comment-7">reply</a>
  <a class="u-url" href="https://ex.org/post/#comment-8">#</a>
  <p class="p-content">Thanks Dan</p>
</div></article></body></html>"""


def test_hentry_u_comment_microformats() -> None:
    comments, status, _ = _run(HENTRY)
    assert status == "captured"
    assert comments == [
        {
            "id": "7",
            "parent_id": None,
            "author": "Dan",
            "published": "2022-02-03T08:00:00+00:00",
            "text": "Nice post!\n\nReally.",
            "type": "comment",
        },
        {
            "id": "8",
            "parent_id": "7",
            "author": "Eli",
            "published": None,
            "text": "Thanks Dan",
            "type": "comment",
        },
    ]


def test_jsonld_comments() -> None:
    html = """<html><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "BlogPosting", "headline": "Post",
     "comment": [{"@type": "Comment", "@id": "https://ex.org/post/#comment-3",
       "author": {"@type": "Person", "name": "Ivy"}, "dateCreated": "2020-05-05T05:05:05Z",
       "text": "One.\\n\\nTwo.",
       "comment": [{"@type": "Comment", "@id": "https://ex.org/post/#comment-4",
                    "author": "Jo", "text": "<p>Reply</p>"}]}]}
    </script></head><body><p>Body</p></body></html>"""
    comments, status, _ = _run(html)
    assert status == "captured"
    assert [(c["id"], c["parent_id"], c["author"], c["text"]) for c in comments] == [
        ("3", None, "Ivy", "One.\n\nTwo."),
        ("4", "3", "Jo", "Reply"),
    ]


def test_block_theme_markup() -> None:
    html = f"""<html><body>{ARTICLE}</article><div class="wp-block-comments">
    <ol class="wp-block-comment-template"><li id="comment-5" class="comment depth-1">
    <div class="wp-block-comment-author-name"><a href="https://k.ex.org/">Kim</a></div>
    <div class="wp-block-comment-date"><time datetime="2023-03-03T03:03:03+01:00">
    <a href="#comment-5">3 March</a></time></div>
    <div class="wp-block-comment-content"><p>Hello</p></div>
    <div class="wp-block-comment-reply-link"><a class="comment-reply-link">Antworten</a></div>
    <ol><li id="comment-6" class="comment depth-2">
    <div class="wp-block-comment-author-name">Lou</div>
    <div class="wp-block-comment-content"><p>Hi Kim</p></div></li></ol>
    </li></ol></div></body></html>"""
    comments, status, _ = _run(html)
    assert status == "captured"
    got = [(c["id"], c["parent_id"], c["author"], c["text"], c["published"]) for c in comments]
    assert got == [
        ("5", None, "Kim", "Hello", "2023-03-03T03:03:03+01:00"),
        ("6", "5", "Lou", "Hi Kim", None),
    ]


def test_synthetic_tree_not_mutated() -> None:
    for html in (MICRODATA, HENTRY):
        tree = lxml.html.fromstring(html)
        before = etree.tostring(tree)
        extract_comments(tree, "https://ex.org/post/")
        assert etree.tostring(tree) == before


# -- threads marked only as a whole (older themes): the section fallback ----------------------

_ARTICLE = "<div class='entry-content'><p>" + "The post itself says this. " * 12 + "</p></div>"


def _section_page(thread: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(
        f"<html><body><article><h1>Title</h1>{_ARTICLE}</article>{thread}</body></html>"
    )


def test_section_fallback_reads_dt_dd_pairs() -> None:
    """Blogger's and some 2010 themes' `<dl>`: the author line in <dt>, the text in <dd>."""
    tree = _section_page(
        "<div id='comments'><h4>2 comments:</h4><dl id='comments-block'>"
        "<dt class='comment-author'><a href='/u/1'>Ann</a> said...</dt>"
        "<dd class='comment-body'><p>First reader comment with words.</p></dd>"
        "<dt class='comment-author'><a href='/u/2'>Bob</a> said...</dt>"
        "<dd class='comment-body'><p>Second reader comment, a reply.</p></dd>"
        "</dl></div>"
    )
    comments, status, _ = extract_comments(tree, "")
    assert status == "captured"
    assert [c["text"] for c in comments] == [
        "First reader comment with words.",
        "Second reader comment, a reply.",
    ]
    for c in comments:
        Comment(**c)


def test_section_fallback_reads_repeated_boxes_and_skips_chrome() -> None:
    tree = _section_page(
        "<div id='comments'><ul class='commentlisting'>"
        "<li class='c1'><h4>Nice one</h4><p>I think this is right on the money.</p></li>"
        "<li class='c1'><h4>Nope</h4><p>I disagree with most of what was said.</p></li>"
        "</ul><div class='login'><a href='/in'>Sign in</a> <a href='/f'>with Facebook</a>"
        " <a href='/g'>Google</a></div></div>"
    )
    texts = [c["text"] for c in extract_comments(tree, "")[0]]
    assert texts == [
        "Nice one\n\nI think this is right on the money.",
        "Nope\n\nI disagree with most of what was said.",
    ]


def test_section_fallback_finds_no_comment_in_a_form_or_its_notes() -> None:
    tree = _section_page(
        "<div class='comments'><h3>Leave a reply</h3>"
        "<p>By submitting this form you agree to our use of your data.</p>"
        "<p>Your personal data will only be used for spam filtering.</p>"
        "<form><textarea name='c'></textarea><button>Post</button></form></div>"
    )
    assert extract_comments(tree, "")[:2] == ([], "none")


def test_section_comment_text_never_in_body() -> None:
    from crawler.extract.body import extract_body

    tree = _section_page(
        "<div id='comments'><ol><li><p>A reader writes this comment text.</p></li>"
        "<li><p>Another reader answers with more text.</p></li></ol></div>"
    )
    comments = extract_comments(tree, "")[0]
    body = extract_body(tree, "")
    assert len(comments) == 2 and body is not None
    assert all(c["text"] not in body.text for c in comments)


def test_comment_text_box_with_an_unlisted_class() -> None:
    """A theme's own name for the text box (`comment_entry`), and an item with no named box
    at all: its own text, without its replies and its author line."""
    html = """<html><body><article><h1>Post</h1><p>Body text of the post.</p></article>
    <ol class="commentlist">
      <li class="comment" id="comment-1">
        <div class="comment_meta"><img class="avatar" src="a"></div>
        <div class="comment_entry"><p class="cm-meta"><a class="url" href="/a">Ann</a></p>
        <p>First comment with words of its own.</p></div></li>
      <li class="comment" id="comment-2"><span class="fn">Bob</span>
        <p>Second comment in no named box.</p>
        <ul><li class="comment" id="comment-3"><span class="fn">Cy</span><p>A reply.</p></li></ul>
      </li>
    </ol></body></html>"""
    comments, status, _ = extract_comments(lxml.html.fromstring(html), "https://b.example/p/")
    assert status == "captured"
    texts = {c["id"]: c["text"] for c in comments}
    assert "First comment with words of its own." in texts["1"]
    assert texts["2"] == "Second comment in no named box."
    assert texts["3"] == "A reply."
    assert [c["author"] for c in comments] == ["Ann", "Bob", "Cy"]


def test_comments_one_box_each_named_commentbody() -> None:
    """Movable Type prints each comment as a `div.commentbody` beside the next, no list."""
    boxes = "".join(
        f'<div class="commentbody"><div id="c{i}"><p>Comment number {i} says a thing.</p></div>'
        f'<p class="posted">Posted by: Reader {i} at November 7, 2012 1:56 PM</p></div>'
        for i in range(1, 4)
    )
    html = f"<html><body><div class='blog'><h1>Post</h1><p>Body.</p></div>{boxes}</body></html>"
    comments, status, _ = extract_comments(lxml.html.fromstring(html), "https://b.example/p/")
    assert status == "captured" and len(comments) == 3
    assert comments[0]["text"].startswith("Comment number 1 says a thing.")


def test_comment_items_marked_by_div_ids_and_ul_boxes() -> None:
    """Drupal themes mark each comment by its id alone (`div#comment-N`), the Guardian's by a
    `ul.comment`; Movable Type's boxes carry the author in their class (`commentbody by-x`)."""
    drupal = "".join(
        f'<a id="comment-{n}"></a><div class="non_toggle_area" id="comment-{n}">'
        f'<div class="label"><b><a href="/u/{n}">User {n}</a></b></div>'
        f'<div class="comment-content"><p>Drupal comment {n} with some words.</p></div></div>'
        for n in (11, 12)
    )
    guardian = "".join(
        f'<ul class="comment b2" id="comment-{n}"><li class="comment-author">'
        f'<a href="/u/{n}">Reader {n}</a></li><li><div class="comment-body">'
        f"<p>Guardian comment {n} with some words.</p></div></li></ul>"
        for n in (21, 22)
    )
    mt = "".join(
        f'<div class="commentbody by-reader-{n}"><div id="c{n}"><p>MT comment {n} here.</p>'
        f'<p>Second paragraph.</p></div><p class="posted">Posted by: R{n} at May 1</p></div>'
        for n in (31, 32)
    )
    for thread, first in ((drupal, "Drupal comment 11"), (guardian, "Guardian comment 21"),
                          (mt, "MT comment 31")):  # fmt: skip
        html = f"<html><body><article><h1>Post</h1><p>Body.</p></article>{thread}</body></html>"
        comments, status, _ = extract_comments(lxml.html.fromstring(html), "https://b.ex/p/")
        assert status == "captured" and len(comments) == 2, thread
        assert comments[0]["text"].startswith(first)


def test_comments_no_markup_names_stay_out_of_the_body() -> None:
    """Movable Type prints its comments right after the post, beside it, as `div#cN` boxes
    that no class names: `find_comments` reads them, and the body built as `analyse_page`
    builds it (comments first, their boxes excluded) holds none of their text."""
    from crawler.extract.body import extract_body
    from crawler.extract.comments import find_comments
    from crawler.extract.page import analyse_page

    post = "".join(
        f"<p>Paragraph {i} of the post, with enough words in it to be read as prose.</p>"
        for i in range(6)
    )
    thread = "".join(
        f'<div id="c{n}"><p>Reader {n} disagrees at length with every point the post made.</p>'
        f'</div><p class="posted">Posted by: reader{n} at October 29, 2012 05:23 PM</p>'
        for n in range(115850, 115856)
    )
    html = (
        "<html><head><title>Post</title></head><body><div id='content'><h1>Post</h1>"
        f"{post}<h2 id='comments'>Comments</h2>{thread}</div>"
        "<div id='sidebar'><ul><li><a href='/a'>Archives</a></li></ul></div></body></html>"
    )
    tree = lxml.html.fromstring(html)
    found = find_comments(tree, "https://b.ex/p/")
    assert found.status == "captured" and len(found.comments) == 6
    assert len(found.boxes) == 6 and all(b.get("id", "").startswith("c") for b in found.boxes)
    body = extract_body(tree, "https://b.ex/p/", exclude=found.boxes)
    assert body is not None and "Paragraph 5 of the post" in body.text
    assert "disagrees" not in body.text and "Posted by" not in body.text
    assert len(lxml.html.tostring(tree)) == len(lxml.html.tostring(lxml.html.fromstring(html)))
    record = analyse_page(html.encode(), "https://b.ex/p/", hints=None).record
    assert record is not None and "disagrees" not in record.text
    assert [c.text for c in record.comments][0].startswith("Reader 115850 disagrees")


def test_flat_thread_of_anchors_and_posted_lines() -> None:
    """Old TypePad threads have no boxes: an empty `<a id="cN">` opens each comment, a
    "Posted by: <a>Name</a> | date" line closes it; none of it stays in the body."""
    from crawler.extract.page import analyse_page

    post = "".join(
        f"<p>Paragraph {i} of the post, long enough to be prose here.</p>" for i in range(6)
    )
    thread = "".join(
        f'<a id="c6442{n}"></a><p>Comment {n} line one.</p><p>And a second line.</p>'
        f'<p class="posted">Posted by: <a href="/u{n}">Name {n}</a> | Mar 26, 2007 2:0{n}:18 PM</p>'
        for n in range(3)
    )
    html = (
        "<html><head><title>Post</title></head><body><div id='main'><h1>Post</h1>"
        f"{post}<h2><a id='comments'></a>Comments</h2>{thread}"
        "<h2>Post a comment</h2><form><textarea></textarea></form></div></body></html>"
    )
    comments, status, _ = extract_comments(lxml.html.fromstring(html), "https://b.ex/p/")
    assert status == "captured"
    assert [(c["id"], c["author"], c["text"]) for c in comments] == [
        (f"6442{n}", f"Name {n}", f"Comment {n} line one.\n\nAnd a second line.") for n in range(3)
    ]
    record = analyse_page(html.encode(), "https://b.ex/p/").record
    assert record is not None and "Paragraph 5" in record.text
    assert "Comment 1 line one" not in record.text and "Posted by" not in record.text
