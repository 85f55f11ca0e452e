"""Site template learning: block fingerprints, SiteProfile thresholds, body filtering, safety."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest

from archive.scoring import score_corpus
from crawler.extract import body as body_module
from crawler.extract.body import extract_body
from crawler.extract.page import analyse_page
from crawler.extract.profile import (
    MIN_PAGES,
    SiteProfile,
    block_fingerprints,
    learned_blocks,
    load_profile,
    load_profiles,
    normalise,
    page_blocks,
    save_profile,
    text_fingerprint,
)
from tests.blogfarm import BLOGFARM, THEMES, groundtruth, recorded_page

THEME_NAMES = sorted(THEMES.values())
SEEDS = BLOGFARM.parent / "seeds"


def _parse(text: str | bytes) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(text)


# -- a synthetic site: template blocks INSIDE the content container ---------------------------

SIDEBAR_TEASER = (
    "<div class='box-a'><h3>Beliebte Beiträge</h3>"
    "<p>Zehn Ideen für bessere Fotos im Winter und warum das Stativ zu Hause bleiben darf.</p>"
    "</div>"
)
AUTHOR_BOX = (
    "<div class='box-b'><p>Über die Autorin</p>"
    "<p>Jana Müller schreibt seit vielen Jahren über Technik, Küche und das Leben dazwischen.</p>"
    "</div>"
)
SHARE_BAR = (  # a top-level paragraph of links: structural rules keep the author's own links
    "<p><a href='https://social.example/share'>Mastodon</a> · "
    "<a href='https://bsky.example/share'>Bluesky</a> · "
    "<a href='mailto:?subject=Lesetipp'>Per E-Mail weitersagen</a></p>"
)
NEWSLETTER = (
    "<div class='box-c'><h4>Nie wieder einen Beitrag verpassen</h4>"
    "<p>Trag dich für unseren Brief ein: einmal im Monat alle neuen Texte, kein Spam, "
    "jederzeit abbestellbar.</p></div>"
)
TEMPLATE_TEXTS = [
    "Beliebte Beiträge",
    "Zehn Ideen für bessere Fotos im Winter und warum das Stativ zu Hause bleiben darf.",
    "Über die Autorin",
    "Jana Müller schreibt seit vielen Jahren über Technik, Küche und das Leben dazwischen.",
    "Mastodon · Bluesky · Per E-Mail weitersagen",
    "Nie wieder einen Beitrag verpassen",
    "Trag dich für unseren Brief ein: einmal im Monat alle neuen Texte, kein Spam, "
    "jederzeit abbestellbar.",
]
SHARED_QUOTE = "Wer über Nacht erfolgreich wird, hat tagsüber hart gearbeitet, sagt meine Oma."
REPEATED = "Das sage ich gern noch einmal: Ohne Sicherungskopie ist jede Festplatte nur geliehen."
QUOTING = (
    "Auf vielen Blogs steht „Nie wieder einen Beitrag verpassen“ über einem Formular, und ich "
    "finde diese Aufforderung ziemlich aufdringlich."
)


def _page(title: str, inner: str) -> str:
    """A whole page: site chrome outside the container, `inner` inside it."""
    return (
        f"<html><head><title>{title} – Testblog</title></head><body>"
        "<header><p>Testblog</p><nav><ul><li><a href='/'>Start</a></li>"
        "<li><a href='/technik/'>Technik</a></li><li><a href='/kochen/'>Kochen</a></li>"
        "</ul></nav></header><main><article>"
        f"<h1 class='entry-title'>{title}</h1><div class='entry-content'>{inner}</div>"
        "</article></main><footer><p>Stolz präsentiert von einem Testblog.</p></footer>"
        "</body></html>"
    )


def _title(page: str) -> str:
    return html.unescape(page.split("<h1 class='entry-title'>", 1)[1].split("</h1>", 1)[0])


def _posts(min_words: int = 150, count: int = 10) -> list[dict]:
    """Real German posts of the blogfarm ground truth, long enough to outweigh the template."""
    return [r for r in groundtruth() if r["word_count"] >= min_words][:count]


def _paras(lines: list[str]) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def _synthetic_site() -> dict[str, tuple[str, list[str]]]:
    """url -> (page html, the real lines of its body)."""
    site: dict[str, tuple[str, list[str]]] = {}
    for i, rec in enumerate(_posts()):
        lines = rec["body_text"].split("\n")
        extra: list[str] = []
        if i in (0, 1):
            extra = [SHARED_QUOTE]  # a quote shared by exactly two posts
        elif i == 2:
            extra = [REPEATED, lines[0], REPEATED]  # an author repeating herself
        elif i == 3:
            extra = [QUOTING]
        elif i == 4:
            extra = ["Beliebte Beiträge", lines[0]]  # a real heading equal to a template label
        real = lines + extra
        inner = (
            f"<p>Lesezeit: {3 + i} Minuten</p>"
            + SIDEBAR_TEASER
            + _paras(lines[: len(lines) // 2])
            + AUTHOR_BOX
            + _paras(lines[len(lines) // 2 :] + extra)
            + SHARE_BAR
            + NEWSLETTER
        )
        site[f"https://blog.example.org/{rec['slug']}/"] = (_page(rec["title"], inner), real)
    return site


def _learn(pages: dict[str, str] | list[str], site: str = "blog.example.org") -> SiteProfile:
    profile = SiteProfile(site=site)
    for page in pages.values() if isinstance(pages, dict) else pages:
        blocks = page_blocks(_parse(page))
        profile.add_page([fp for fp, _ in blocks], dict(blocks))
    return profile


@pytest.fixture(scope="module")
def synthetic() -> tuple[dict[str, tuple[str, list[str]]], SiteProfile]:
    site = _synthetic_site()
    return site, _learn({url: page for url, (page, _) in site.items()})


# -- fingerprints ---------------------------------------------------------------------------


def test_fingerprint_normalisation() -> None:
    assert text_fingerprint("Hallo,  Welt!") == text_fingerprint("hallo welt")
    assert text_fingerprint("Lesezeit: 4 Minuten") == text_fingerprint("Lesezeit: 12 Minuten")
    assert text_fingerprint("Hallo Welt") != text_fingerprint("Hallo Welt, wie geht's?")
    assert text_fingerprint(" · — ") is None
    assert (text_fingerprint("Technik") or "").endswith("s")  # short block
    assert not (text_fingerprint("Lesezeit: 4 Minuten") or "").endswith("s")
    # stable across processes and releases: a changed scheme invalidates stored profiles
    assert text_fingerprint("Über die Autorin") == "0f9922f67cf9e362"
    assert normalise("Über  die\u00a0Autorin!") == "über die autorin"
    assert text_fingerprint("v1.0 (2015)") != text_fingerprint("v2.0 (2017)")
    # short blocks match across numbers too: they need 60% of pages and learned neighbours
    assert text_fingerprint("Teil 1") == text_fingerprint("Teil 2")


def test_template_lines_with_numbers_and_dates_match() -> None:
    """Reading times, comment counters and dates vary from page to page: one fingerprint."""
    same = [
        ("Lesezeit: 1 Minute", "Lesezeit: 4 Minuten"),
        ("3 Kommentare", "1 Kommentar"),
        ("12 comments", "1 comment"),
        ("Veröffentlicht am 3. März 2024", "Veröffentlicht am 12. April 2025"),
        ("Posted on January 5, 2023 by Ann", "Posted on Dec 24, 2021 by Ann"),
    ]
    for a, b in same:
        assert text_fingerprint(a) == text_fingerprint(b), (a, b)
    assert text_fingerprint("3 Kommentare") != text_fingerprint("3 Antworten")
    assert text_fingerprint("Posted on May 5 by Ann") != text_fingerprint("Posted on May 5 by Bob")
    assert normalise("Hallo Welt, wie geht es dir") == "hallo welt wie geht es dir"  # no numbers
    assert text_fingerprint("Akt 1: Der Webserver") != text_fingerprint(
        "Akt 1: Der Webserver", linked=True
    )


def test_block_fingerprints_distinct_in_page_order() -> None:
    tree = _parse(
        "<html><body><div>Intro-Text direkt im Div <p>Erster <b>Absatz</b> hier.</p>"
        "Nachsatz</div><ul><li>Punkt eins</li><li>Punkt eins</li></ul>"
        "<script>var x = 1;</script><p>Erster Absatz hier.</p><table><tr><td>Zelle</td></tr>"
        "</table></body></html>"
    )
    blocks = page_blocks(tree)
    assert [t.strip() for _, t in blocks] == [
        "Intro-Text direkt im Div",
        "Erster Absatz hier.",
        "Nachsatz",
        "Punkt eins",
    ]
    assert block_fingerprints(tree) == [fp for fp, _ in blocks]
    assert len(set(block_fingerprints(tree))) == len(block_fingerprints(tree))


def test_fingerprints_match_rendered_body_blocks() -> None:
    """Every block the container path renders has the fingerprint of a block of the raw page."""
    for rec in groundtruth()[:15]:
        for url in rec["urls_by_theme"].values():
            tree = _parse(recorded_page(url).body)
            found = set(block_fingerprints(tree))
            body = extract_body(tree, url)
            assert body is not None
            for text in body.text.split("\n\n"):
                if "\n" not in text and "|" not in text:  # not pre/table/br blocks
                    assert text_fingerprint(text) in found, (url, text)


# -- the profile ------------------------------------------------------------------------------


def test_thresholds() -> None:
    long_fp, short_fp = text_fingerprint("ein ganz normaler langer Satz"), text_fingerprint("Fazit")
    assert long_fp and short_fp
    profile = SiteProfile()
    for _ in range(MIN_PAGES - 1):
        profile.add_page([long_fp, short_fp, long_fp])  # distinct per page
    assert profile.boilerplate() == frozenset()  # never below MIN_PAGES pages
    profile.add_page([long_fp, short_fp])
    assert profile.boilerplate() == {long_fp, short_fp}
    for _ in range(MIN_PAGES * 3):
        profile.add_page([long_fp])
    # 24 pages: long one on all; short one on 6 < 0.6 × 24
    assert profile.boilerplate() == {long_fp}


def test_two_posts_never_make_boilerplate() -> None:
    shared = text_fingerprint(SHARED_QUOTE)
    assert shared
    for pages in (2, 3, 5, 10, 1000):
        profile = SiteProfile()
        for i in range(pages):
            profile.add_page([shared] if i < 2 else [f"{i:016x}"])
        assert shared not in profile.boilerplate()


def test_learned_blocks_runs() -> None:
    learned = frozenset(
        fp
        for fp in map(
            text_fingerprint, ["Technik", "Veröffentlicht", "in", "von", "Lang genug hier"]
        )
        if fp
    )
    texts = ["Technik", "Text", "Veröffentlicht", "in", "von", None, "Lang genug hier", "Technik"]
    blocks = [(t, t) if t is not None else None for t in texts]
    assert learned_blocks(blocks, learned) == [False, False, True, True, True, False, True, True]
    # the same words as a link (a menu, a recent-posts list) are another block
    assert learned_blocks(
        [("Lang genug hier", "[Lang genug hier](https://x.example/)")], learned
    ) == [False]


def test_json_round_trip_and_persistence(tmp_path: Path) -> None:
    profile = _learn(
        [_page(f"Post {i}", f"<p>Eigener Text {chr(65 + i)}.</p>" + NEWSLETTER) for i in range(8)]
    )
    data = profile.to_json()
    text = json.dumps(data)
    again = SiteProfile.from_json(text)
    assert again.pages == profile.pages == 8
    assert again.boilerplate() == profile.boilerplate() != frozenset()
    assert again.explain() == profile.explain()
    # singletons are not stored
    assert all(count > 1 for count, _ in data["blocks"].values())

    path = tmp_path / "archive" / "profiles.json"
    other = SiteProfile(site="other.example")
    other.add_page(["00000000000000aa"])
    save_profile(path, other)
    save_profile(path, profile)
    assert sorted(load_profiles(path)) == ["blog.example.org", "other.example"]
    loaded = load_profile(path, "blog.example.org")
    assert loaded.boilerplate() == profile.boilerplate()
    assert load_profile(path, "new.example").pages == 0
    assert [p.name for p in path.parent.iterdir()] == ["profiles.json"]  # no temp files left
    with pytest.raises(ValueError):
        SiteProfile.from_json({"format": 99, "pages": 0, "blocks": {}})


def test_bounded_memory() -> None:
    profile = SiteProfile(max_tracked=200)
    template = [
        text_fingerprint(f"Vorlage Block Nummer {chr(65 + i)} mit Text") or "" for i in range(5)
    ]
    for page in range(500):
        profile.add_page(template + [f"{page:08x}{j:08x}" for j in range(10)])
        assert len(profile._blocks) <= 200
    assert profile.boilerplate() == frozenset(template)


def test_incremental_boilerplate_equals_a_full_recount() -> None:
    """`boilerplate()` is kept up to date page by page (the spider asks for it on every page):
    it must always equal the set counted afresh from every tracked block."""
    import random

    rng = random.Random(7)
    pool = [f"{i:015x}{'s' if i % 3 == 0 else 'l'}" for i in range(60)]
    weights = [1 / (1 + i) for i in range(len(pool))]
    profile = SiteProfile(max_tracked=40)
    for _ in range(300):
        page = rng.choices(pool, weights, k=rng.randint(0, 12))
        profile.add_page(page)
        incremental = profile.boilerplate()
        profile._cache = None
        assert incremental == profile.boilerplate()
        if rng.random() < 0.5:
            profile._cache = None  # also let it start over from nothing now and then
    assert profile.boilerplate()  # the frequent blocks are learned


def test_explain_lists_samples(synthetic: tuple[dict, SiteProfile]) -> None:
    _, profile = synthetic
    rows = profile.explain()
    samples = {r["sample"] for r in rows}
    assert "Über die Autorin" in samples
    assert any(s.startswith("Trag dich für unseren Brief ein") for s in samples)
    assert all(r["pages"] >= profile.threshold() for r in rows)
    assert rows == sorted(rows, key=lambda r: (-r["pages"], r["sample"]))
    # samples can also come later, from the bodies' removed texts
    bare = SiteProfile()
    for _ in range(6):
        bare.add_page([text_fingerprint(TEMPLATE_TEXTS[1]) or ""])
    assert bare.explain()[0]["sample"] == ""
    bare.note_samples([TEMPLATE_TEXTS[1]])
    assert bare.explain()[0]["sample"].startswith("Zehn Ideen")


# -- bodies with the learned profile -----------------------------------------------------------


def test_template_inside_container_is_dropped(synthetic: tuple[dict, SiteProfile]) -> None:
    site, profile = synthetic
    boilerplate = profile.boilerplate()
    for url, (page, real) in site.items():
        plain = extract_body(_parse(page), url)
        assert plain is not None
        # structural rules alone keep the template: that is what the profile is for
        assert all(text in plain.text.split("\n\n") for text in TEMPLATE_TEXTS), url
        body = extract_body(_parse(page), url, boilerplate)
        assert body is not None and not body.guarded
        blocks = body.text.split("\n\n")
        for text in TEMPLATE_TEXTS[1::2] + TEMPLATE_TEXTS[4:5]:
            assert text not in blocks, (url, text)
        assert not any(b.startswith("Lesezeit:") for b in blocks)
        expected = extract_body(_parse(_page(_title(page), _paras(real))), url)
        assert expected is not None and body.text == expected.text, url  # all real lines stay
        assert set(body.removed) >= set(TEMPLATE_TEXTS[1::2])


def test_real_content_stays(synthetic: tuple[dict, SiteProfile]) -> None:
    site, profile = synthetic
    bodies = {
        url: extract_body(_parse(page), url, profile.boilerplate())
        for url, (page, _) in site.items()
    }
    texts = [b.text if b else "" for b in bodies.values()]
    assert sum(SHARED_QUOTE in t for t in texts) == 2  # a quote shared by two posts
    assert any(t.count(REPEATED) == 2 for t in texts)  # a sentence repeated inside one post
    assert sum(QUOTING in t for t in texts) == 1  # boilerplate phrase inside a longer sentence
    # a real heading that equals a template label stays when it stands alone
    assert sum("\n\nBeliebte Beiträge\n\n" in t for t in texts) == 1


def test_sidebar_link_titles_do_not_match_body_headings() -> None:
    """A recent-posts list on every page names post titles; a post using such a title as its
    own heading or paragraph keeps it. The same list inside the container goes."""
    recent = (
        "<ul>"
        + "".join(
            f"<li><a href='/p{i}/'>Akt {i}: Der Webserver und seine Launen</a></li>"
            for i in (1, 2, 3)
        )
        + "</ul>"
    )
    posts = _posts(count=10)
    pages = {
        f"https://blog.example.org/{r['slug']}/": _page(
            r["title"],
            _paras(r["body_text"].split("\n")) + recent,
        )
        for r in posts
    }
    profile = _learn(pages)
    lines = posts[0]["body_text"].split("\n")
    own = _page("Akt 1", "<h2>Akt 1: Der Webserver und seine Launen</h2>" + _paras(lines))
    url = "https://blog.example.org/akt-1/"
    body = extract_body(_parse(own), url, profile.boilerplate())
    assert body is not None and "Akt 1: Der Webserver und seine Launen" in body.text
    for url, page in pages.items():  # a top-level list: structural rules keep it
        plain = extract_body(_parse(page), url)
        assert plain is not None and "Der Webserver und seine Launen" in plain.text
        body = extract_body(_parse(page), url, profile.boilerplate())
        assert body is not None and "Der Webserver und seine Launen" not in body.text, url


def test_quoted_blocks_are_never_dropped(synthetic: tuple[dict, SiteProfile]) -> None:
    _, profile = synthetic
    page = _page(
        "Zitate",
        _paras(["Ein eigener Absatz über Formulare und andere Ärgernisse im Netz."] * 1)
        + f"<blockquote><p>{TEMPLATE_TEXTS[6]}</p></blockquote>"
        + "<p>So steht es unter jedem Beitrag, und niemand liest es, am wenigsten ich selbst.</p>",
    )
    body = extract_body(_parse(page), "https://blog.example.org/zitate/", profile.boilerplate())
    assert body is not None and TEMPLATE_TEXTS[6] in body.text and not body.removed


def test_guard_keeps_body_that_would_lose_half(synthetic: tuple[dict, SiteProfile]) -> None:
    _, profile = synthetic
    page = _page("Kurz", SIDEBAR_TEASER + "<p>Nur ein kurzer Gruß heute.</p>" + NEWSLETTER)
    url = "https://blog.example.org/kurz/"
    body = extract_body(_parse(page), url, profile.boilerplate())
    assert body is not None
    assert body.guarded and body.removed == []
    assert TEMPLATE_TEXTS[1] in body.text and "Nur ein kurzer Gruß heute." in body.text


def test_no_profile_changes_nothing(synthetic: tuple[dict, SiteProfile]) -> None:
    site, _ = synthetic
    url, (page, _) = next(iter(site.items()))
    a, b = extract_body(_parse(page), url), extract_body(_parse(page), url, frozenset())
    assert a == b and a is not None and a.removed == [] and not a.guarded


def test_analyse_page_threads_profile(synthetic: tuple[dict, SiteProfile]) -> None:
    site, profile = synthetic
    url, (page, real) = next(iter(site.items()))
    analysis = analyse_page(page.encode(), url, boilerplate=profile.boilerplate())
    assert analysis.fingerprints == block_fingerprints(_parse(page))
    assert analysis.record is not None and analysis.record.text == "\n\n".join(real)
    assert set(analysis.removed) >= set(TEMPLATE_TEXTS[1::2])
    plain = analyse_page(page.encode(), url)
    assert plain.removed == [] and TEMPLATE_TEXTS[3] in (plain.record.text if plain.record else "")


# -- the seeds' real boilerplate lines as a site template -------------------------------------


def _seed_template(rec: dict) -> list[str]:
    """The seed's lines that are not the post's text (title, author box, share row, ads,
    comment form ...), in order, up to 120 words."""
    path = SEEDS / rec["source"]["seed"]
    body = normalise(rec["body_text"])
    out: list[str] = []
    words = 0
    for line in (ln.strip() for ln in path.read_text(encoding="utf-8").split("\n")):
        norm = normalise(line)
        if not norm or norm in body or norm == normalise(rec["title"]):
            continue
        if words + len(norm.split()) > 120:
            break
        out.append(line)
        words += len(norm.split())
    return out


def _seed_records() -> list[dict]:
    return [r for r in groundtruth() if (r.get("source") or {}).get("seed")]


def test_seed_boilerplate_is_not_in_ground_truth() -> None:
    records = _seed_records()
    assert len(records) == 5
    for rec in records:
        template = _seed_template(rec)
        assert template, rec["slug"]
        for line in template:
            assert normalise(line) not in normalise(rec["body_text"]), (rec["slug"], line)


@pytest.mark.parametrize("seed_rec", _seed_records(), ids=lambda r: r["source"]["seed"][:3])
def test_seed_template_learned(seed_rec: dict) -> None:
    """A site whose pages all carry one seed's real boilerplate inside the container."""
    template = _seed_template(seed_rec)
    head, tail = template[: len(template) // 2], template[len(template) // 2 :]
    posts = [seed_rec] + [r for r in _posts(min_words=300, count=12) if r is not seed_rec][:9]
    pages = {}
    clean = {}
    for rec in posts:
        url = f"https://seed.example.org/{rec['slug']}/"
        lines = rec["body_text"].split("\n")
        pages[url] = _page(rec["title"], _paras(head + lines + tail))
        clean[url] = _page(rec["title"], _paras(lines))
    profile = _learn(pages, site="seed.example.org")
    left: list[str] = []
    for url, page in pages.items():
        expected = extract_body(_parse(clean[url]), url)
        body = extract_body(_parse(page), url, profile.boilerplate())
        assert body is not None and expected is not None and not body.guarded
        assert body.text == expected.text, url
        left += [line for line in template if line in body.text.split("\n\n")]
    assert not left


# -- the blogfarm snapshot ---------------------------------------------------------------------


def _theme_pages(theme: str) -> dict[str, tuple[lxml.html.HtmlElement, str]]:
    out = {}
    for rec in groundtruth():
        url = rec["urls_by_theme"][theme]
        out[url] = (_parse(recorded_page(url).body), rec["body_text"])
    return out


def _f1(pages: dict[str, tuple[lxml.html.HtmlElement, str]], boilerplate: frozenset[str]) -> float:
    pairs = []
    for url, (tree, expected) in pages.items():
        body = extract_body(tree, url, boilerplate)
        pairs.append((expected, body.text if body else ""))
    score = score_corpus(pairs)
    assert score.documents == 46
    return score.f1


@pytest.fixture
def fallback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """extract_body without its CMS-container path: trafilatura after structural cleanup."""
    monkeypatch.setattr(body_module, "find_container", lambda tree: None)
    yield


@pytest.mark.parametrize("theme", THEME_NAMES)
def test_blogfarm_profile_keeps_f1(theme: str) -> None:
    pages = _theme_pages(theme)
    profile = SiteProfile(site=theme)
    for tree, _ in pages.values():
        profile.add_page(block_fingerprints(tree))
    assert profile.boilerplate()
    assert _f1(pages, profile.boilerplate()) >= 0.995


def test_blogfarm_profile_helps_fallback(fallback_only: None) -> None:
    gains = []
    for theme in THEME_NAMES:
        pages = _theme_pages(theme)
        profile = SiteProfile(site=theme)
        for tree, _ in pages.values():
            profile.add_page(block_fingerprints(tree))
        without, with_profile = _f1(pages, frozenset()), _f1(pages, profile.boilerplate())
        assert with_profile >= without, theme
        gains.append(with_profile - without)
    assert max(gains) > 0.003  # twentytwentythree: its meta-line fragments go
