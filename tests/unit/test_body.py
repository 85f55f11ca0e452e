"""Article-body extraction: blogfarm snapshot scores, no comments/title, Markdown, purity."""

from __future__ import annotations

import json
import re

import lxml.html
import pytest

from archive.scoring import score_corpus
from crawler.extract.body import Body, extract_body
from tests.blogfarm import THEMES, groundtruth, recorded_page

THEME_NAMES = sorted(THEMES.values())


def _parse(html: bytes | str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html)


def _extract(url: str) -> Body | None:
    return extract_body(_parse(recorded_page(url).body), url)


@pytest.fixture(scope="module")
def bodies() -> dict[tuple[str, str], Body | None]:
    """(theme, slug) -> extracted body, for every post and page of the snapshot."""
    return {
        (theme, rec["slug"]): _extract(url)
        for rec in groundtruth()
        for theme, url in rec["urls_by_theme"].items()
    }


# -- blogfarm snapshot ----------------------------------------------------------------------


@pytest.mark.parametrize("theme", THEME_NAMES)
def test_f1_per_theme(theme: str, bodies: dict[tuple[str, str], Body | None]) -> None:
    pairs = []
    for rec in groundtruth():
        body = bodies[(theme, rec["slug"])]
        pairs.append((rec["body_text"], body.text if body else ""))
    score = score_corpus(pairs)
    assert score.documents == 46
    assert score.f1 >= 0.995, score


def test_every_post_has_a_body(bodies: dict[tuple[str, str], Body | None]) -> None:
    missing = [key for key, body in bodies.items() if body is None or not body.text.strip()]
    assert not missing


def test_blocks_match_ground_truth_lines(bodies: dict[tuple[str, str], Body | None]) -> None:
    """Block structure: one block per ground-truth line (minus typography), "\\n\\n" between."""
    wrong = []
    for rec in groundtruth():
        for theme in THEME_NAMES:
            body = bodies[(theme, rec["slug"])]
            assert body is not None
            if body.text.replace("\n\n", "\n") != rec["body_text"]:
                wrong.append((theme, rec["slug"]))
    assert len(wrong) <= 3, wrong


def test_no_comment_text_in_any_body(bodies: dict[tuple[str, str], Body | None]) -> None:
    checked = 0
    for rec in groundtruth():
        for comment in rec["comments"]:
            for line in comment["text"].split("\n"):
                if len(line) < 25 or line in rec["body_text"]:
                    continue
                for theme in THEME_NAMES:
                    body = bodies[(theme, rec["slug"])]
                    assert body is not None
                    assert line not in body.text, (theme, rec["slug"], line)
                    checked += 1
    assert checked > 50  # the ground truth does have comments to check against


def test_no_title_as_first_line(bodies: dict[tuple[str, str], Body | None]) -> None:
    for rec in groundtruth():
        first_gt_line = rec["body_text"].split("\n", 1)[0]
        for theme in THEME_NAMES:
            body = bodies[(theme, rec["slug"])]
            assert body is not None
            first = body.text.split("\n", 1)[0]
            if first_gt_line != rec["title"]:
                assert first != rec["title"], (theme, rec["slug"])


def test_no_theme_boilerplate(bodies: dict[tuple[str, str], Body | None]) -> None:
    phrases = ("Schreibe einen Kommentar", "E-Mail-Adresse wird nicht veröffentlicht",
               "Veröffentlicht", "Schlagwörter", "Antworten zu")  # fmt: skip
    for (theme, slug), body in bodies.items():
        rec = next(r for r in groundtruth() if r["slug"] == slug)
        assert body is not None
        for phrase in phrases:
            if phrase not in rec["body_text"]:
                assert phrase not in body.text, (theme, slug, phrase)


_MD_FEATURES = {
    "heading": (re.compile(r"<h[1-6][ >]"), re.compile(r"^#{1,6} \S", re.M)),
    "bullet list": (re.compile(r"<ul[ >]"), re.compile(r"^\s*- \S", re.M)),
    "ordered list": (re.compile(r"<ol[ >]"), re.compile(r"^\s*\d+\. \S", re.M)),
    "table": (re.compile(r"<table[ >]"), re.compile(r"^\|(?:---\|)+$", re.M)),
    "code": (re.compile(r"<pre[ >]"), re.compile(r"^```", re.M)),
    "quote": (re.compile(r"<blockquote[ >]"), re.compile(r"^> \S", re.M)),
}


@pytest.mark.parametrize("feature", sorted(_MD_FEATURES))
def test_markdown_keeps_structure(feature: str, bodies: dict[tuple[str, str], Body | None]) -> None:
    html_re, md_re = _MD_FEATURES[feature]
    seen = 0
    for rec in groundtruth():
        has = bool(html_re.search(rec["body_html"]))
        for theme in THEME_NAMES:
            body = bodies[(theme, rec["slug"])]
            assert body is not None
            if has:
                seen += 1
                assert md_re.search(body.markdown), (theme, rec["slug"], feature)
    assert seen, f"no page with a {feature} in the ground truth"


def test_markdown_table_rows_and_code_indentation(
    bodies: dict[tuple[str, str], Body | None],
) -> None:
    for rec in groundtruth():
        body = bodies[("twentytwentyone", rec["slug"])]
        assert body is not None
        md_rows = [ln.replace("\\", "") for ln in body.markdown.split("\n") if ln.startswith("|")]
        for table in re.findall(r"<table.*?</table>", rec["body_html"], re.S):
            for tr in lxml.html.fromstring(table).iter("tr"):
                cells = [" ".join(c.text_content().split()) for c in tr if c.tag in ("td", "th")]
                row = "| " + " | ".join(cells) + " |"
                assert row in md_rows, (rec["slug"], row)
        for pre in re.findall(r"<pre[^>]*>(.*?)</pre>", rec["body_html"], re.S):
            text = lxml.html.fromstring(f"<pre>{pre}</pre>").text_content()
            for line in text.split("\n"):
                if line.startswith(" ") and line.strip():
                    assert "\n" + line.rstrip() + "\n" in body.markdown, (rec["slug"], line)


def test_does_not_mutate_tree() -> None:
    rec = next(r for r in groundtruth() if r["comments"])
    for url in rec["urls_by_theme"].values():
        tree = _parse(recorded_page(url).body)
        before = lxml.html.tostring(tree)
        assert extract_body(tree, url) is not None
        assert lxml.html.tostring(tree) == before
    tree = _parse(_PAGE_NO_CONTAINER)
    before = lxml.html.tostring(tree)
    assert extract_body(tree, "https://example.org/x") is not None
    assert lxml.html.tostring(tree) == before


def test_deterministic() -> None:
    url = groundtruth()[0]["urls_by_theme"]["twentytwentytwo"]
    assert _extract(url) == _extract(url)


# -- synthetic pages ------------------------------------------------------------------------

_ARTICLE = """
<p>Der erste Absatz erklärt, worum es in diesem Beitrag eigentlich gehen soll.</p>
<blockquote><p>Wer nicht fragt, bleibt dumm, sagt das Sprichwort.</p></blockquote>
<p>Dazwischen steht ein ganz gewöhnlicher Absatz mit etwas mehr Text darin.</p>
<blockquote><p>Wer nicht fragt, bleibt dumm, sagt das Sprichwort.</p></blockquote>
<pre><code class="language-python">def f(x):
    return x + 1
</code></pre>
"""


def _page(inner: str, title: str = "Ein Testbeitrag") -> str:
    return f"""<html><head><title>{title} – Testblog</title></head><body>
<header><nav><a href="/">Start</a> <a href="/a">Archiv</a> <a href="/b">Über</a></nav></header>
<main><article class="post"><h1 class="entry-title">{title}</h1>
<div class="entry-content">{inner}</div></article>{_COMMENTS}</main>
<footer>© Testblog</footer></body></html>"""


_COMMENTS = """<div id="comments" class="comments-area">
<h2 class="comments-title">2 Gedanken zu „Ein Testbeitrag“</h2>
<ol class="comment-list"><li class="comment"><article class="comment-body">
<p>Ein Leserkommentar, der nicht in den Artikeltext gehört.</p></article></li></ol>
<div id="respond"><h3>Schreibe einen Kommentar</h3><form><p>Deine E-Mail-Adresse wird nicht
veröffentlicht.</p><textarea></textarea></form></div></div>"""

_PAGE_NO_CONTAINER = """<html><head><title>Ohne Container</title></head><body>
<div class="menu"><a href="/">Start</a> | <a href="/x">Archiv</a> | <a href="/y">Kontakt</a></div>
<div class="wrap"><div class="col">
<p>Dieser Blog hat kein bekanntes Inhaltselement, trotzdem muss der Text gefunden werden,
denn hier steht ein langer Absatz mit vielen Wörtern, der eindeutig der Hauptinhalt ist.</p>
<p>Auch der zweite Absatz gehört dazu und erzählt noch etwas mehr über das Thema dieser
Seite, damit das Verhältnis von Text zu Navigation eindeutig ausfällt und nichts fehlt.</p>
<p>Ein dritter Absatz schließt den Beitrag ab und fasst noch einmal alles kurz zusammen,
was vorher gesagt wurde, ohne dabei auf Links oder Menüs angewiesen zu sein.</p>
</div></div><div class="sidebar"><a href="/1">Kategorie 1</a><a href="/2">Kategorie 2</a></div>
</body></html>"""


def _synthetic(inner: str) -> Body:
    body = extract_body(_parse(_page(inner)), "https://blog.example.org/2024/01/test/")
    assert body is not None
    return body


def test_synthetic_comment_section_removed_and_repeated_quote_kept() -> None:
    body = _synthetic(_ARTICLE)
    assert "Leserkommentar" not in body.text
    assert "Schreibe einen Kommentar" not in body.text
    assert "E-Mail-Adresse" not in body.text
    assert body.text.count("Wer nicht fragt, bleibt dumm") == 2
    assert not body.text.startswith("Ein Testbeitrag")
    assert body.text.startswith("Der erste Absatz")
    assert "def f(x):\n    return x + 1" in body.text
    assert "```python\ndef f(x):\n    return x + 1\n```" in body.markdown
    assert "> Wer nicht fragt" in body.markdown


def test_synthetic_share_bar_and_author_box_removed() -> None:
    inner = (
        _ARTICLE
        + """<div class="sharedaddy sd-sharing-enabled"><h3>Teilen mit:</h3><ul>
        <li><a href="https://facebook.com/sharer">Share on Facebook</a></li>
        <li><a href="https://twitter.com/intent">Tweet about this on Twitter</a></li></ul></div>
        <div class="author-box"><p>Hier schreibt für Sie:</p><p>Erika Muster ist Autorin
        und schreibt über Technik.</p><a href="/author/erika">Profil</a></div>
        <div class="jp-relatedposts"><h3>Ähnliche Beiträge</h3><a href="/p1">Ein anderer
        Beitrag</a></div><p>Advertisements</p>"""
    )
    body = _synthetic(inner)
    for junk in (
        "Facebook",
        "Tweet",
        "Hier schreibt",
        "Erika Muster",
        "Ähnliche",
        "Advertisements",
    ):
        assert junk not in body.text, junk
    assert "Dazwischen steht ein ganz gewöhnlicher Absatz" in body.text


def test_synthetic_markdown_structures() -> None:
    inner = """<h2>Zutaten</h2><ul><li>Mehl</li><li>Wasser<ul><li>lauwarm</li></ul></li></ul>
    <ol start="3"><li>Rühren</li><li>Backen</li></ol>
    <figure class="wp-block-table"><table><thead><tr><th>A</th><th>B</th></tr></thead>
    <tbody><tr><td>1</td><td>2 | 3</td></tr></tbody></table>
    <figcaption>Tabelle eins</figcaption></figure>
    <p>Ein <strong>fetter</strong> und ein <a href="/link">verlinkter</a> Text.<br>Zweite
    Zeile.</p>"""
    body = _synthetic(inner)
    md = body.markdown
    assert "## Zutaten" in md
    assert "- Mehl\n- Wasser\n  - lauwarm" in md
    assert "3. Rühren\n4. Backen" in md
    assert "| A | B |\n|---|---|\n| 1 | 2 \\| 3 |" in md
    assert "Tabelle eins" in md
    assert "**fetter**" in md
    assert "[verlinkter](https://blog.example.org/link)" in md
    assert "A | B\n\n1 | 2 | 3\n\nTabelle eins" in body.text
    assert "Text.\nZweite Zeile." in body.text


def test_fallback_without_known_container() -> None:
    body = extract_body(_parse(_PAGE_NO_CONTAINER), "https://example.org/x")
    assert body is not None
    assert "Dieser Blog hat kein bekanntes Inhaltselement" in body.text
    assert "Ein dritter Absatz" in body.text
    assert "Kategorie 1" not in body.text


def test_no_body_returns_none() -> None:
    tree = _parse("<html><body><nav><a href='/'>Start</a></nav></body></html>")
    assert extract_body(tree, "https://example.org/") is None


def test_title_inside_container_is_dropped() -> None:
    html = """<html><head><title>Mein Titel | Testblog</title>
    <meta property="og:title" content="Mein Titel"></head><body>
    <div class="post-content"><h1>Mein Titel</h1>
    <p>Der eigentliche Text beginnt hier und ist lang genug, um als Artikel zu gelten.</p>
    <p>Mein Titel</p></div></body></html>"""
    body = extract_body(_parse(html), "https://example.org/mein-titel/")
    assert body is not None
    assert body.text.startswith("Der eigentliche Text")
    assert body.text.endswith("Mein Titel")  # only a leading title line goes


def test_news_caption_with_credit_dropped_author_caption_kept() -> None:
    inner = (
        _ARTICLE
        + """<figure><img src="a.jpg"><figcaption>Der Steg verschwindet im Nebel.</figcaption>
        </figure><figure><img src="b.jpg"><figcaption>Minister shake hands in Hanoi.
        <span class="credit">Photo: Hau Dinh, AP</span></figcaption></figure>
        <div class="image-caption">Protesters in the street (AP Photo/Jane Doe)</div>
        <p>Image 1 of 8</p><p>By Jane Doe</p><p>Nov 18, 2019 at 9:24 pm ET</p>"""
    )
    body = _synthetic(inner)
    assert "Der Steg verschwindet im Nebel." in body.text
    for junk in ("Hanoi", "Hau Dinh", "Protesters", "Image 1 of 8", "Jane Doe", "2019"):
        assert junk not in body.text


def test_trailing_teaser_section_cut() -> None:
    teasers = "".join(f"<p><a href='/t{n}'>Another story number {n}</a></p>" for n in range(3))
    body = _synthetic(_ARTICLE + f"<h3>Most read in world news</h3>{teasers}")
    assert "Most read" not in body.text and "Another story" not in body.text
    assert "Dazwischen steht" in body.text


def test_jsonld_article_body_when_markup_shows_only_a_part() -> None:
    first = "Der erste Absatz erklärt, worum es in diesem Beitrag eigentlich gehen soll."
    rest = [f"Absatz {n} steht nur im JSON-LD, die Seite lädt ihn per Skript." for n in range(8)]
    ld = json.dumps({"@type": "NewsArticle", "articleBody": "\n\n".join([first, *rest])})
    html = _page(f"<p>{first}</p>").replace(
        "</head>", f'<script type="application/ld+json">{ld}</script></head>'
    )
    body = extract_body(_parse(html), "https://blog.example.org/2024/01/test/")
    assert body is not None
    assert body.text == "\n\n".join([first, *rest])


# -- general news/blog chrome rules (one synthetic case each) -------------------------------


def test_bem_credit_element_in_caption_dropped() -> None:
    inner = (
        _ARTICLE
        + """<figure><img src="a.jpg"><figcaption class="article__media-caption">
        <span>A hospital in Beijing</span><span class="article__credit">Credit: EPA</span>
        </figcaption></figure>"""
    )
    assert "hospital in Beijing" not in _synthetic(inner).text


def test_split_container_chunks_in_one_article_are_joined() -> None:
    html = """<html><head><title>Split</title></head><body><main><article>
    <div class="article__body"><p>Der erste Teil des Artikels steht in einem Block.</p></div>
    <div class="ad-slot">Anzeige</div>
    <div class="article__body"><p>Der zweite Teil folgt nach der Werbung im selben Artikel,
    mit noch mehr Text als der erste Teil, damit er der größte Block ist.</p></div>
    </article></main></body></html>"""
    body = extract_body(_parse(html), "https://example.org/split")
    assert body is not None
    assert body.text.startswith("Der erste Teil")
    assert "Der zweite Teil" in body.text
    assert "Anzeige" not in body.text


def test_embedded_post_in_social_wrapper_kept() -> None:
    inner = (
        _ARTICLE
        + """<div class="social-media-embed"><blockquote class="twitter-tweet"><p>Yes this is
        real and the state spent half a million dollars on it</p>— Jane (@jane)</blockquote>
        </div><div class="social-share"><a href="/s">Share on Facebook</a></div>"""
    )
    body = _synthetic(inner)
    assert "Yes this is real" in body.text
    assert "Share on Facebook" not in body.text


def test_labelled_teaser_links_dropped() -> None:
    inner = (
        _ARTICLE
        + """<p><strong>READ MORE:</strong> <a href="/x">China plague outbreak confirmed</a></p>
        <p>Related: <a href="/y">Snapshots of our universe through time</a></p>
        <p>Lesen Sie auch: <a href="/z">Ein anderer Beitrag</a></p>
        <p>Read more: this sentence has no link and stays.</p>"""
    )
    body = _synthetic(inner)
    for junk in ("China plague", "Snapshots", "anderer Beitrag"):
        assert junk not in body.text, junk
    assert "this sentence has no link and stays" in body.text


def test_all_caps_single_link_paragraph_dropped() -> None:
    inner = _ARTICLE + '<p><a href="/t">FORMER LABEL BOSS BLASTS HER CLAIMS</a></p>'
    assert "LABEL BOSS" not in _synthetic(inner).text


def test_call_to_action_paragraphs_dropped() -> None:
    inner = (
        _ARTICLE
        + """<p>Get breaking news alerts and special reports. Delivered weekday mornings.</p>
        <p>Need more space? Subscribe to our sister title for the latest news!</p>
        <p>Click here to subscribe to The Paradigm Newsletter</p>
        <p>Viele Leser haben sich für den Newsletter angemeldet, sagt die Redaktion.</p>"""
    )
    body = _synthetic(inner)
    for junk in ("breaking news alerts", "sister title", "Paradigm"):
        assert junk not in body.text, junk
    assert "Viele Leser haben sich" in body.text


def test_agency_credit_and_contact_lines_dropped() -> None:
    inner = (
        _ARTICLE
        + """<p>(Reporting by Will Dunham; Editing by Tom Brown)</p>
        <p>Write to Al Root at allen.root@example.com</p>
        <p>Associated Press writers Alan Fram and Zeke Miller contributed to this report.</p>"""
    )
    body = _synthetic(inner)
    for junk in ("Dunham", "Al Root", "Zeke Miller"):
        assert junk not in body.text, junk


def test_tag_list_and_meta_lines_dropped() -> None:
    inner = (
        _ARTICLE
        + """<p>Tags<br>stock car 2018, stock car brasil, stock car interlagos, velopark</p>
        <p>05/10/2018 - Publicado por: Clarissa Borba - Categoria: Saúde</p>
        <p>Die Kategorie: das ist hier ein ganz normaler Satz im Text.</p>"""
    )
    body = _synthetic(inner)
    assert "velopark" not in body.text and "Clarissa" not in body.text
    assert "ganz normaler Satz" in body.text


def test_teaser_rail_inside_the_body_dropped() -> None:
    cards = "".join(
        f'<div class="card"><a href="/t{n}"><img src="i.jpg"></a><h3>KICKER {n}</h3>'
        f"<span>Teaser headline number {n} about something else</span>"
        f'<a href="/t{n}" class="overlay"></a></div>'
        for n in range(4)
    )
    inner = (
        "<p>Der erste Absatz erklärt, worum es geht, mit genug Worten für einen Artikel.</p>"
        f'<div class="row"><div class="rail"><h3>Most read in world news</h3>{cards}</div></div>'
        + _ARTICLE
        + "<p>Ein weiterer langer Absatz des Artikels, der weitergeht und erzählt.</p>" * 8
    )
    body = _synthetic(inner)
    assert "Most read" not in body.text and "Teaser headline" not in body.text
    assert "Der erste Absatz erklärt" in body.text and "Dazwischen steht" in body.text


def test_media_chrome_lines_dropped() -> None:
    inner = (
        _ARTICLE
        + """<p>6</p><p>Media playback is unsupported on your device</p>
        <p>Image copyright Reuters</p><p>Updated 11:21 pm CST, Tuesday, November 19, 2019</p>"""
    )
    body = _synthetic(inner)
    for junk in ("playback", "Reuters", "11:21"):
        assert junk not in body.text, junk
    assert "\n\n6\n\n" not in body.text


def test_numbered_chunks_of_one_body_are_joined() -> None:
    """News templates number the chunks of one body (`story-body-1`, `story-body-2`)."""
    first = "<p>" + "The first part of the story has these words. " * 8 + "</p>"
    second = "<p>" + "The second part goes on with other words. " * 12 + "</p>"
    html = (
        "<html><body><article><h1>Headline</h1>"
        f"<div class='story-body story-body-1'>{first}</div><div class='ad'>Ad</div>"
        f"<div class='story-body story-body-2'>{second}</div></article></body></html>"
    )
    body = extract_body(_parse(html), "")
    assert body is not None
    assert "first part of the story" in body.text and "second part goes on" in body.text


def test_announced_list_of_linked_titles_is_dropped() -> None:
    text = "<p>" + "An author's paragraph with enough words to be the body. " * 10 + "</p>"
    html = (
        f"<html><body><div class='entry-content'>{text}<p>You may also like:</p><ol>"
        "<li><a href='/a'>Another post about phones</a></li>"
        "<li><a href='/b'>A third post about music players</a></li></ol>"
        "<p>Thanks for reading, and see you next week.</p></div></body></html>"
    )
    body = extract_body(_parse(html), "http://example.org/p")
    assert body is not None
    assert "Another post" not in body.text and "third post" not in body.text
    assert body.text.endswith("Thanks for reading, and see you next week.")


_PROSE = [
    "The first paragraph of the post is long enough to be real prose, with many words in it.",
    "A second paragraph carries the story on, and it also has a good number of plain words.",
    "The third paragraph ends the post with a last thought, written out in a full sentence.",
]


def _teasers(n: int) -> str:
    return "".join(
        f"<li><a href='/t{i}'>Teaser headline number {i} links away</a></li>" for i in range(n)
    )


def test_post_inside_an_aside_is_kept() -> None:
    """Some themes put the post itself in <aside>: one holding most of the page's prose is not
    boilerplate, a sidebar <aside> still is."""
    post = "".join(f"<p>{p} {p}</p>" for p in _PROSE)
    html = (
        f"<html><body><h1>Title</h1><aside class='blogPost'>{post}</aside>"
        f"<aside class='sidebar'><p>About this blog in a few words.</p><ul>{_teasers(12)}</ul>"
        "</aside></body></html>"
    )
    body = extract_body(_parse(html), "https://b.example/p/")
    assert body is not None
    assert _PROSE[0] in body.text and _PROSE[2] in body.text
    assert "About this blog" not in body.text and "Teaser headline" not in body.text


def test_meta_box_wrapping_the_content_container_is_kept() -> None:
    """Cleaning keeps a `post-meta` box that wraps the post's `post-content` (it is no meta
    line), and still drops a box holding several small containers (teaser cards)."""
    from crawler.extract.body import clean_container

    post = "".join(f"<p>{p} {p}</p>" for p in _PROSE)
    cards = "".join(f"<div class='entry-content'><p>Card {i} teaser.</p></div>" for i in range(3))
    html = (
        "<div id='post-entry'><h1>Title</h1>"
        "<div class='post-meta'><span>Published on August 28th</span>"
        f"<div class='post-content'>{post}</div></div>"
        f"<div class='post-meta'>Filed under news</div><div class='widget'>{cards}</div>"
        f"<div class='related'><ul>{_teasers(5)}</ul></div>"
        f"<div class='author-box'><p>{' '.join(['The author writes about life.'] * 22)}</p></div>"
        "</div>"
    )
    root = _parse(html)
    clean_container(root)
    text = root.text_content()
    assert _PROSE[1] in text
    assert "Filed under" not in text and "Card 1 teaser" not in text
    assert "Teaser headline" not in text and "The author writes" not in text


def test_trailing_author_box_related_list_and_copyright_line_are_cut() -> None:
    """ "About the author" and "Posts related to ..." open trailing sections, cut when what
    follows is small or mostly links; a "Copyright ... All rights reserved" line is no text."""
    post = "".join(f"<p>{p} {p}</p>" for p in _PROSE)
    related = "".join(
        f"<li><a href='/r{i}'>Another review of a car, number {i}</a></li>" for i in range(9)
    )
    html = (
        f"<html><body><h1>T</h1><div class='entry-content'>{post}"
        "<p>Copyright 2012 admin. All rights reserved.</p>"
        f"<h3>Posts Related to Lancia Delta Review</h3><ul>{related}</ul></div></body></html>"
    )
    body = extract_body(_parse(html), "https://b.example/p/")
    assert body is not None and _PROSE[2] in body.text
    assert "Copyright" not in body.text and "Another review" not in body.text
    html = html.replace("Posts Related to Lancia Delta Review", "About the author")
    body = extract_body(_parse(html), "https://b.example/p/")
    assert body is not None and "Another review" not in body.text and _PROSE[2] in body.text


def test_slideshow_caption_that_is_the_story_is_kept() -> None:
    """A credited news photo caption is dropped, unless it holds most of the story's words
    (a slideshow page whose text is its caption)."""
    caption = (
        "The actress looked a tad too done up after a night of partying at the hotel on July"
        " 21, and got into the driver's seat of her car with a face full of lipstick and"
        " eyeliner before the photographers. (David Tonnessen/PacificCoastNews.com)"
    )
    html = (
        "<html><body><h1>Goes heavy on makeup</h1><div class='story_body'>"
        "<h2>Her latest look featured a lot of lipstick.</h2>"
        f"<div class='mediaViewer'><div class='caption'>{caption} Photo: AP</div></div>"
        "</div></body></html>"
    )
    body = extract_body(_parse(html), "https://n.example/story/")
    assert body is not None and "a tad too done up" in body.text
    long = "".join(f"<p>{p} {p}</p>" for p in _PROSE)
    html = html.replace("<h2>", f"{long}<h2>")
    body = extract_body(_parse(html), "https://n.example/story/")
    assert body is not None and _PROSE[0] in body.text and "a tad too done up" not in body.text


def test_post_classes_made_from_its_terms_are_no_boilerplate() -> None:
    """WordPress gives a post's element a class per term (`tag-links`, `category-social`):
    a post tagged "links" is no tag-links box, which cleaning still drops. Kubrick's "You can
    follow any responses" line is no text."""
    from crawler.extract.body import clean_container

    html = (
        "<div id='content'><div class='post-7177 post type-post status-publish hentry"
        f" category-social tag-links'><p>{_PROSE[0]}</p><p>{_PROSE[1]}</p>"
        "<span class='tag-links'>Tagged links, social</span></div>"
        f"<div id='more'><p>{' '.join(['Other text of the page, not boilerplate.'] * 8)}</p></div>"
        "</div>"
    )
    root = _parse(html)
    clean_container(root)
    text = root.text_content()
    assert _PROSE[1] in text and "Tagged links" not in text
    line = (
        "You can follow any responses to this entry through the RSS 2.0 feed. You can leave a"
        " response, or trackback from your own site."
    )
    page = f"<html><body><h1>T</h1><div class='entry-content'><p>{_PROSE[0]}</p><p>{line}</p>"
    body = extract_body(_parse(page + "</div></body></html>"), "https://b.example/p/")
    assert body is not None and _PROSE[0] in body.text and "You can follow" not in body.text


def test_parsed_pages_hold_no_html_comments_or_processing_instructions() -> None:
    """`parse_html` drops comments and PIs: no step reads them, and trafilatura, given a tree
    that holds them, lost the text after a comment on real pages (cleaneval-dev +0.008 F1)."""
    from lxml import etree

    from crawler.extract.page import parse_html

    tree = parse_html(
        "<!DOCTYPE html><html><body><!-- a --><p>One<!-- b --> two</p><?php echo 1 ?>"
        "<span>three</span><!-- End Video Link --> four</body></html>"
    )
    assert not [
        n for n in tree.iter() if isinstance(n, (etree._Comment, etree._ProcessingInstruction))
    ]
    assert tree.text_content().split() == ["One", "twothree", "four"]  # <p> ends before <span>


def test_inline_annotation_inside_a_sentence_is_part_of_it() -> None:
    """A short inline element in a paragraph's running text is the sentence's, whatever its
    class says (`popup`, `tag`); hidden ones and standalone share links still go."""
    para = (
        '<p>"Mr. Nippers," said I, <a class="popup" href="#">"I\'d prefer that you would'
        ' withdraw for the present."</a> Somehow, of late I had got into the way of it, and'
        ' the <a class="tag" href="/t/law">law</a> office knew it.'
        '<span class="screen-reader-text"> (opens in a new tab)</span></p>'
    )
    html = (
        f"<html><body><h1>T</h1><div class='entry-content'>{para}<p>{_PROSE[0]}</p>"
        "<p><a class='share-twitter' href='#'>Twitter</a></p></div></body></html>"
    )
    body = extract_body(_parse(html), "https://b.example/p/")
    assert body is not None
    assert "withdraw for the present" in body.text and "the law office" in body.text
    assert "opens in a new tab" not in body.text and "Twitter" not in body.text
