"""The container or trafilatura: which body `extract_body` takes, by kind of page."""

from __future__ import annotations

import lxml.html

from crawler.extract import body as body_module
from crawler.extract.body import choose_candidate, extract_body
from crawler.extract.markdown import Block

ARTICLE = [
    "The river had risen overnight, and by morning the lower streets of the town were under "
    "a foot of brown water that smelled of mud and diesel.",
    "Shopkeepers carried their stock upstairs while the fire brigade pumped out the cellars "
    "of the old bakery, which has flooded four times in the last ten years.",
    "The mayor said the new flood wall would be finished next spring, two years later than "
    "planned, because the contractor had gone bankrupt halfway through the work.",
    "Residents who have lived here for decades say the floods come more often now, and that "
    "the insurance companies have started to refuse cover for houses near the bank.",
    "By evening the water had begun to fall, leaving a line of silt on every wall and a long "
    "week of cleaning ahead for the families of the lower town.",
]
TEASER = "Sign up for our weekly newsletter and never miss a story from the valley again."


def _page(main: str, extra: str = "", title: str = "Flood in the lower town") -> str:
    nav = "".join(f"<li><a href='/c/{i}/'>Section {i}</a></li>" for i in range(8))
    return (
        f"<html><head><title>{title} | Valley News</title></head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header>"
        f"<main><h1>{title}</h1>{main}</main>{extra}"
        "<footer><p>© Valley News. All rights reserved.</p></footer></body></html>"
    )


def _paras(texts: list[str]) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def _text(html: str) -> str:
    body = extract_body(lxml.html.fromstring(html), "https://news.example/flood/")
    assert body is not None
    return body.text


def test_page_builder_teaser_container_gives_way_to_the_article() -> None:
    """A page builder's article sits in plain <div>s; the only CMS container on the page is a
    promo box after it: the body is the article."""
    main = f"<div class='et_pb_text_inner'>{_paras(ARTICLE)}</div>"
    extra = f"<section><div class='entry-content'><p>{TEASER}</p></div></section>"
    text = _text(_page(main, extra))
    for para in ARTICLE:
        assert para in text
    assert TEASER not in text


def test_one_of_many_teaser_cards_gives_way_to_the_article() -> None:
    cards = "".join(
        f"<div class='post-content'><p>Teaser {i}: the council met again on Tuesday "
        f"evening to discuss the budget for the coming year.</p></div>"
        for i in range(5)
    )
    main = f"<div class='story'>{_paras(ARTICLE)}</div>"
    text = _text(_page(main, f"<aside class='more'>{cards}</aside>".replace("aside", "div")))
    for para in ARTICLE:
        assert para in text
    assert text.count("Teaser") <= 1  # trafilatura may keep the first card's line


def test_a_short_post_right_below_its_title_keeps_its_container() -> None:
    """A two-sentence post (a status update) in its container, below the <h1>, with much
    more text around it on the page: the container is the post."""
    short = "Back from the coast. Photos of the storm follow tomorrow, stay tuned."
    main = f"<div class='entry-content'><p>{short}</p></div>"
    sidebar = f"<div class='sidebar-box'>{_paras(ARTICLE)}</div>"
    text = _text(_page(main, sidebar, title="Back home"))
    assert text == short


def test_a_container_holding_the_article_stays() -> None:
    main = f"<article><div class='entry-content'>{_paras(ARTICLE)}</div></article>"
    extra = "<div class='related'><p><a href='/x/'>Another story about the river</a></p></div>"
    assert _text(_page(main, extra)) == "\n\n".join(ARTICLE)


def _blocks(texts: list[str]) -> list[Block]:
    return [Block("p", t, t) for t in texts]


def test_choose_candidate_rules() -> None:
    article, teaser = _blocks(ARTICLE), _blocks([TEASER])
    # agreement: the container (cleaner) wins
    assert choose_candidate(article, article + teaser) is article
    # a trailing promo that trafilatura's larger body holds late
    assert choose_candidate(teaser, article + teaser) == article + teaser
    # ... unless it sits right below the title
    assert choose_candidate(teaser, article + teaser, follows_title=True) is teaser
    # disjoint and small
    assert choose_candidate(teaser, article) is not teaser
    # one of many alike
    assert choose_candidate(article[:2], article, repeated=True) is not article[:2]
    # nothing from trafilatura: the container
    assert choose_candidate(article, []) is article
    assert choose_candidate([], article) is article


def test_reading_time_lines_are_not_body() -> None:
    for line in ("Lesezeit: 4 Minuten", "5 min read", "Geschätzte Lesezeit: ca. 7 Min."):
        main = f"<article><div class='entry-content'><p>{line}</p>{_paras(ARTICLE)}</div></article>"
        assert _text(_page(main)) == "\n\n".join(ARTICLE)


def test_a_heading_whose_anchor_id_looks_like_a_widget_stays() -> None:
    """Jekyll, Hugo and Hexo give each heading an id made from its text: "Social media ..."
    becomes id="social-media-...", which must not read as a share widget."""
    head = "Social Media wird zum reinen Reichweitenkanal"
    main = (
        "<article><div class='post-content e-content'>"
        f"<h2 id='social-media-wird-zum-reinen-reichweitenkanal'>{head}</h2>"
        f"{_paras(ARTICLE)}<div id='social-share'><a href='/s'>Share</a></div></div></article>"
    )
    assert _text(_page(main)) == "\n\n".join([head, *ARTICLE])


def _page_with_menu(outside_prose: str) -> str:
    menu = "".join(
        f'<li><a href="/kategorie/{i}/">Kategorie Nummer {i} im Menü</a></li>' for i in range(80)
    )
    article = "<p>Der Beitrag selbst hat einen Absatz mit genug eigenen Wörtern darin.</p>" * 4
    return (
        f"<html><head><title>Beitrag</title></head><body><nav><ul>{menu}</ul></nav>"
        f'<article class="post"><h1>Beitrag</h1><div class="entry-content">{article}</div>'
        f"</article>{outside_prose}</body></html>"
    )


def test_a_container_with_most_of_the_prose_needs_no_second_opinion(monkeypatch):
    """A large menu of links outweighs the article in raw text, not in prose: trafilatura's
    run is saved; with as much prose again outside the container it runs."""
    calls: list[str] = []
    original = body_module._trafilatura_html

    def counting(*args, **kwargs):
        calls.append("run")
        return original(*args, **kwargs)

    monkeypatch.setattr(body_module, "_trafilatura_html", counting)
    body = extract_body(lxml.html.document_fromstring(_page_with_menu("")), "")
    assert body is not None and "eigenen Wörtern" in body.text
    assert calls == []
    prose = (
        "<div><p>Ein ganz anderer Text steht hier, lang und ohne jeden Link darin.</p></div>" * 8
    )
    extract_body(lxml.html.document_fromstring(_page_with_menu(prose)), "")
    assert calls == ["run"]
