"""The failures seen on engines and themes beyond WordPress, each on small synthetic HTML:
classification by weighed evidence, terms, dates, comments and code blocks."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from crawler.extract.classify import classify
from crawler.extract.comments import extract_comments
from crawler.extract.engines import ENGINES, detect_engine, url_date
from crawler.extract.markdown import blocks_to_markdown, blocks_to_text, render_blocks
from crawler.extract.metadata import extract_metadata, text_date
from crawler.extract.types import Hints

TEXT = "".join(
    f"<p>Absatz {i}: ein ganz gewöhnlicher Satz über Brot, Teig und den Ofen daheim.</p>"
    for i in range(12)
)


def doc(body: str, head: str = "", body_attrs: str = "", lang: str = "de"):
    return lxml_html.document_fromstring(
        f"<html lang='{lang}'><head><title>T</title>{head}</head><body {body_attrs}>{body}</body>"
        "</html>"
    )


POSTING = '<script type="application/ld+json">{"@type": "BlogPosting", "headline": "T"}</script>'
OG_ARTICLE = '<meta property="og:type" content="article">'
NAV = (
    "<header><nav><a href='/'>Start</a><a href='/ueber-uns/'>Über uns</a>"
    "<a href='/impressum/'>Impressum</a></nav></header>"
)


# ---------------------------------------------------------------- classification


def test_body_class_home_on_every_page_does_not_overrule_the_rest():
    post = doc(
        f"{NAV}<main><article><h1>Brot</h1><time datetime='2023-08-27'>27.8.</time>{TEXT}"
        "</article></main>",
        POSTING + OG_ARTICLE,
        "class='home blog-theme'",
    )
    kind, votes = classify(post, "https://b.example/2023/08/brot-backen/")
    assert kind == "post", votes
    assert votes["classes"] == "listing:1"  # heard, and outweighed


def test_home_class_with_teasers_is_still_a_listing():
    teasers = "".join(
        f"<article><h2><a href='/2023/0{i}/post-{i}/'>Titel {i}</a></h2><p>Anriss.</p></article>"
        for i in range(1, 8)
    )
    kind, votes = classify(doc(f"<main>{teasers}</main>", body_attrs="class='home'"),
                           "https://b.example/themen/")  # fmt: skip
    assert kind == "listing", votes


def test_archive_listing_one_post_is_a_listing():
    """A year archive with a single entry looks like a post, but its title links elsewhere."""
    page = doc(
        "<main><h1>2013</h1><ul class='post-list'><li><h3><a class='post-link' "
        "href='/kultur/2013/11/17/gedicht.html'>Gedicht</a></h3></li></ul></main>",
        POSTING.replace("BlogPosting", "WebPage") + OG_ARTICLE,
    )
    kind, votes = classify(page, "https://b.example/2013/")
    assert kind == "listing", votes


def test_static_page_typed_blogposting_by_a_seo_plugin_is_a_page():
    head = POSTING + OG_ARTICLE + '<meta name="generator" content="Jekyll v4.3.1">'
    page = doc(f"{NAV}<main><article class='post'><h1>Über uns</h1>{TEXT}</article></main>", head)
    kind, votes = classify(page, "https://b.example/ueber-uns/")
    assert kind == "page", votes
    assert votes["engine"] == "jekyll"
    post = doc(
        f"{NAV}<main><article class='post h-entry'><h1>Brot</h1>"
        f"<time class='dt-published' datetime='2021-02-18'>18.02.</time>{TEXT}</article></main>",
        head,
    )
    assert classify(post, "https://b.example/kochen/2021/02/18/brot.html")[0] == "post"


def test_engine_classes_decide_pages_on_hexo_and_ghost():
    hexo = doc(
        f"<main><article class='h-entry article article-type-page'><h1>Impressum</h1>"
        f"<time class='dt-published' datetime='2010-11-01'>1.11.</time>{TEXT}</article></main>",
        '<meta name="generator" content="Hexo 8.1.1"><meta property="og:type" content="website">',
    )
    assert classify(hexo, "https://b.example/impressum/") == (
        "page", {"classes": "page:4", "og_type": "listing:1", "url": "page:1",
                 "date_shown": "post:1", "engine": "hexo"},
    )  # fmt: skip
    ghost_head = '<meta name="generator" content="Ghost 5.2">'
    ghost = doc(f"<main><article>{TEXT}</article></main>", ghost_head,
                "class='page-template page-about'")  # fmt: skip
    assert classify(ghost, "https://b.example/about/")[0] == "page"
    ghost_tag = doc(f"<main>{TEXT}</main>", '<meta name="generator" content="Ghost 5.2">',
                    "class='tag-template tag-brot'")  # fmt: skip
    assert classify(ghost_tag, "https://b.example/tag/brot/")[0] == "listing"


@pytest.mark.parametrize(
    ("generator", "path", "kind"),
    [
        ("Pelican", "/pages/about.html", "page"),
        ("Pelican", "/category/kochen.html", "listing"),
        ("Blogger", "/p/impressum.html", "page"),
        ("Blogger", "/search/label/Brot", "listing"),
        ("Hexo 8", "/archives/2011/03/", "listing"),
        ("Hugo 0.120", "/posts/", "listing"),
        ("Docusaurus v3", "/blog/tags/brot", "listing"),
    ],
)
def test_engine_url_shapes(generator, path, kind):
    page = doc(f"<main><article><h1>X</h1>{TEXT}</article></main>",
               f'<meta name="generator" content="{generator}">')  # fmt: skip
    assert classify(page, f"https://b.example{path}")[0] == kind


def test_every_engine_entry_is_detected_by_its_generator():
    for engine in ENGINES:
        name = engine.generator.pattern.strip("^") if engine.generator else None
        if name:
            page = doc("<p>x</p>", f'<meta name="generator" content="{name.title()} 1.0">')
            assert detect_engine(page) is engine
    assert detect_engine(doc("<p>x</p>")) is None


# ---------------------------------------------------------------- terms


def test_article_section_alone_is_no_category():
    head = (
        '<meta property="og:type" content="article">'
        '<meta property="article:section" content="posts">'
        '<script type="application/ld+json">{"@type": "BlogPosting", "headline": "T",'
        ' "articleSection": "posts"}</script>'
    )
    meta = extract_metadata(doc(f"<article><h1>T</h1>{TEXT}</article>", head),
                            "https://b.example/posts/brot/")  # fmt: skip
    assert meta["categories"] == []


def test_site_wide_keywords_are_no_tags():
    keywords = "".join(f'<meta property="article:tag" content="{k}">' for k in ("Blog", "Kochen"))
    page = doc(f"<article><h1>Über uns</h1>{TEXT}</article>",
               '<meta property="og:type" content="website">' + keywords)  # fmt: skip
    assert extract_metadata(page, "https://b.example/ueber-uns/")["tags"] == []
    post = doc(
        "<article><header><div class='article-category'><a href='/categories/Allgemein/'>"
        f"Allgemein</a></div></header><div class='article-entry'>{TEXT}</div></article>",
        '<meta property="og:type" content="article">' + keywords,
    )
    meta = extract_metadata(post, "https://b.example/2011/04/21/party/")
    assert (meta["categories"], meta["tags"]) == (["Allgemein"], [])


def test_term_links_found_by_their_archive_urls_but_not_in_the_text():
    post = doc(
        "<article><h1>T</h1><div class='meta'><a href='/categories/Python/'>Python</a></div>"
        f"<div class='e-content'>{TEXT}<p>Siehe <a href='/tags/Alt/'>alt</a>.</p></div>"
        "<footer><a href='/tags/Generatoren/'>Generatoren</a></footer></article>"
    )
    meta = extract_metadata(post, "https://b.example/2021/02/18/gen/")
    assert meta["categories"] == ["Python"]
    assert meta["tags"] == ["Generatoren"]


# ---------------------------------------------------------------- dates


def test_url_digits_are_a_date_only_in_a_dated_permalink():
    assert url_date("/2016/07/11-punkte-fuer-bessere-fotos/", None) == (2016, 7, None)
    assert url_date("/2016/07/11/punkte/", None) == (2016, 7, 11)
    page = doc(f"<article><h1>11 Punkte</h1>{TEXT}</article>")
    meta = extract_metadata(page, "https://b.example/2016/07/11-punkte-fuer-bessere-fotos/")
    assert meta["published"] is None or not meta["published"].startswith("2016-07-11")
    dated = extract_metadata(page, "https://b.example/2016/07/11/punkte/")
    assert dated["published"].startswith("2016-07-11") and dated["sources"]["published"] == "url"


@pytest.mark.parametrize(
    ("sentence", "lang", "date"),
    [
        ("Dieser Beitrag wurde am 27. August 2023 von Anna Berg veröffentlicht.", "de",
         "2023-08-27"),
        ("This entry was posted on August 27, 2023 by Anna.", "en", "2023-08-27"),
        ("Publié le 3 mars 2021 par Anne.", "fr", "2021-03-03"),
        ("Publicado el 5 de mayo de 2020 por Ana.", "es", "2020-05-05"),
        ("Pubblicato il 12 settembre 2019 da Anna.", "it", "2019-09-12"),
        ("Geplaatst op 4 januari 2018 door Anna.", "nl", "2018-01-04"),
    ],
)  # fmt: skip
def test_date_from_a_footer_sentence(sentence, lang, date):
    page = doc(
        f"<article class='post'><h1>T</h1><div class='entry-content'>{TEXT}</div>"
        f"<footer class='entry-footer'>{sentence} Aktualisiert: nie.</footer></article>",
        lang=lang,
    )
    meta = extract_metadata(page, "https://b.example/t/")
    assert meta["published"].startswith(date), meta["published"]
    assert meta["sources"]["published"] == "byline"


def test_dates_in_the_post_text_are_not_its_date():
    page = doc(
        "<article><h1>T</h1><div class='entry-content'><p>Am 3. Mai 1999 begann alles.</p>"
        f"{TEXT}</div></article>"
    )
    assert not (extract_metadata(page, "https://b.example/t/")["published"] or "").startswith(
        "1999"
    )


def test_text_date_with_time():
    assert text_date("am 27.08.2023 um 14:30 Uhr") == "2023-08-27T14:30:00"
    assert text_date("Posted on Aug 27th, 2023 at 3:05 pm") == "2023-08-27T15:05:00"
    assert text_date("Seit 2019 dabei") is None


# ---------------------------------------------------------------- comments


def comments_of(body: str):
    return extract_comments(doc(f"<article><h1>T</h1>{TEXT}</article>{body}"), "https://b.ex/t/")


def test_screen_reader_text_is_not_comment_text():
    comments, status, _ = comments_of(
        "<ol class='comment-list'><li class='comment' id='comment-5'><div class='comment-body'>"
        "<b class='fn'>Paul</b><div class='comment-content'><span class='sr-only'>In reply to "
        "Martina.</span><p>Danke für den Tipp!</p><span class='visually-hidden'>(opens in a "
        "new tab)</span><span style='position:absolute;left:-10000px'>hidden</span></div>"
        "</div></li></ol>"
    )
    assert status == "captured"
    assert comments[0]["text"] == "Danke für den Tipp!"


@pytest.mark.parametrize(
    "markup",
    [
        "<ol id='pings'><li id='comment-9'><div class='comment-body'><b class='fn'>Site</b>"
        "<div class='comment-content'><p>[…] ein Link […]</p></div></div></li></ol>",
        "<ol class='comment-list'><li class='comment type-pingback' id='comment-9'>"
        "<b class='fn'>Site</b><div class='comment-content'><p>[…] ein Link […]</p></div>"
        "</li></ol>",
        "<div class='comments'><div class='comment' id='comment-9'><p class='comment-author'>"
        "Pingback: <a href='https://x.example/'>Site</a></p><div class='comment-content'>"
        "<p>[…] ein Link […]</p></div></div></div>",
    ],
)
def test_pingbacks_are_typed_wherever_the_theme_puts_them(markup):
    comments, _, _ = comments_of(markup)
    assert [c["type"] for c in comments] == ["pingback"]
    assert comments[0]["author"] == "Site"


@pytest.mark.parametrize(
    ("markup", "system"),
    [
        ("<div id='disqus_thread'></div>", "disqus"),
        ("<script src='https://giscus.app/client.js' data-repo='a/b'></script>", "giscus"),
        ("<script src='https://utteranc.es/client.js' repo='a/b'></script>", "utterances"),
    ],
)
def test_javascript_comment_systems_are_not_captured(markup, system):
    assert comments_of(markup)[1:] == ("not_captured", system)


# ---------------------------------------------------------------- code blocks

CODE = "def zaehle(n):\n    i = 1\n    while i <= n:\n        yield i"


def render(fragment: str) -> tuple[str, str]:
    blocks = render_blocks(lxml_html.fragment_fromstring(fragment, create_parent="div"))
    return blocks_to_text(blocks), blocks_to_markdown(blocks)


def _lines(code: str) -> str:
    return "".join(f"<span class='line'>{line}</span><br>" for line in code.split("\n"))


@pytest.mark.parametrize(
    "fragment",
    [
        # Hexo (highlight.js, line numbers on)
        "<figure class='highlight python'><table><tr><td class='gutter'><pre>"
        + "".join(f"<span class='line'>{i}</span><br>" for i in range(1, 5))
        + f"</pre></td><td class='code'><pre>{_lines(CODE)}</pre></td></tr></table></figure>",
        # Pygments linenos="table"
        "<table class='highlighttable'><tr><td class='linenos'><div class='linenodiv'><pre>"
        "1\n2\n3\n4</pre></div></td><td class='code'><div class='highlight'><pre>"
        f"<span></span>{CODE}\n</pre></div></td></tr></table>",
        # Rouge (Jekyll) with line numbers
        "<table class='rouge-table'><tbody><tr><td class='gutter gl'><pre class='lineno'>1\n2\n3"
        f"\n4\n</pre></td><td class='code'><pre>{CODE}\n</pre></td></tr></tbody></table>",
        # highlightjs-line-numbers.js: one row per line
        "<table class='hljs-ln'><tbody>"
        + "".join(
            f"<tr><td class='hljs-ln-line hljs-ln-numbers'><div class='hljs-ln-n' "
            f"data-line-number='{i}'></div></td><td class='hljs-ln-line hljs-ln-code'>{line}</td>"
            "</tr>"
            for i, line in enumerate(CODE.split("\n"), 1)
        )
        + "</tbody></table>",
    ],
)
def test_code_tables_with_a_line_number_gutter_are_code(fragment):
    text, markdown = render(fragment)
    assert text == CODE
    assert CODE in markdown and markdown.startswith("```") and "| " not in markdown


def test_a_table_of_numbers_and_words_stays_a_table():
    text, markdown = render(
        "<table><tr><td>1</td><td>Brot</td></tr><tr><td>2</td><td>Butter</td></tr></table>"
    )
    assert text == "1 | Brot\n\n2 | Butter"
    assert markdown.startswith("|")


def test_feed_hint_confirms_a_section():
    head = '<meta property="og:type" content="article"><meta property="article:section" ' \
           'content="Kochen">'  # fmt: skip
    meta = extract_metadata(doc(f"<article><h1>T</h1>{TEXT}</article>", head),
                            "https://b.example/t/", Hints(categories=["Kochen"]))  # fmt: skip
    assert meta["categories"] == ["Kochen"]


def test_related_post_cards_do_not_make_a_post_a_listing():
    cards = "".join(
        f"<article><h3><a href='/2023/0{i}/anderer-{i}/'>Anderer {i}</a></h3></article>"
        for i in range(1, 5)
    )
    page = doc(
        f"<main><article><h1>Brot</h1>{TEXT}<ul><li><a href='/2022/01/alt/'>alt</a></li></ul>"
        f"</article><section class='related-posts'>{cards}</section></main>",
        OG_ARTICLE,
    )
    kind, votes = classify(page, "https://b.example/brot-backen/")
    assert kind == "post", votes
    assert "entries" not in votes


def test_an_unknown_engines_generic_body_class_is_only_a_hint():
    page = doc(
        f"<main><article><h1>Brot</h1><time datetime='2023-08-27'>27.8.</time>{TEXT}</article>"
        "</main>",
        OG_ARTICLE,
        "class='blog archive'",
    )
    kind, votes = classify(page, "https://b.example/2023/08/brot/")
    assert kind == "post", votes
    assert votes["classes"] == "listing:2"


def test_substack_posts_by_their_permalink():
    head = "<link rel='stylesheet' href='https://substackcdn.com/bundle/main.css'>"
    post = doc(f"<main><article><h1>Brot</h1>{TEXT}</article></main>", head)
    kind, votes = classify(post, "https://x.substack.com/p/brot-backen")
    assert (kind, votes["url"], votes["engine"]) == ("post", "post:2", "substack")
    archive = doc(f"<main>{TEXT}</main>", head)
    assert classify(archive, "https://x.substack.com/archive")[0] == "listing"


def test_hugo_static_page_and_post_despite_og_type_article_everywhere():
    head = (
        '<meta name="generator" content="Hugo 0.125.0">'
        '<meta property="og:type" content="article">'
        '<meta property="article:section" content="posts">'
    )
    about = doc(f"<main><article><h1>Über mich</h1>{TEXT}</article></main>", head)
    kind, votes = classify(about, "https://b.example/about/")
    assert kind == "page", votes
    post = doc(
        f"<main><article><h1>Brot</h1><time datetime='2024-02-01T10:00:00+01:00'>1. Februar"
        f"</time>{TEXT}</article></main>",
        head,
    )
    assert classify(post, "https://b.example/posts/brot/")[0] == "post"
    meta = extract_metadata(post, "https://b.example/posts/brot/")
    assert meta["categories"] == [] and meta["published"] == "2024-02-01T10:00:00+01:00"
