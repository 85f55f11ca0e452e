"""Hostile little sites for the safety tests (tests/unit/test_safety_*.py)."""

from __future__ import annotations

import random
import re

from tests.httpserver import Route

HTML = {"Content-Type": "text/html; charset=utf-8"}
WORDS = [
    "Garten",
    "Rosen",
    "Beete",
    "Kompost",
    "Regentonne",
    "Handschuhe",
    "Geduld",
    "Winter",
    "Frühling",
    "Sommer",
    "Herbst",
    "Apfelbaum",
    "Birnbaum",
    "Gießkanne",
    "Spaten",
    "Harke",
    "Saatgut",
    "Tomaten",
    "Gurken",
    "Zucchini",
    "Kürbis",
]  # noqa: SIM905


def text(seed: int, sentences: int = 4) -> list[str]:
    """Distinct German-looking paragraphs (so each page is a real post to the extractor)."""
    rng = random.Random(seed)
    return [
        f"{rng.choice(WORDS)} " + " ".join(rng.choice(WORDS).lower() for _ in range(13)) + "."
        for _ in range(sentences)
    ]


def article(title: str, paragraphs: list[str], extra_head: str = "", links: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'>{extra_head}"
        f"<title>{title} - Testblog</title></head><body class='single single-post'>"
        "<header><nav><a href='/'>Start</a></nav></header><main><article class='post'>"
        f"<h1 class='entry-title'>{title}</h1><div class='entry-meta'>von <span class='author "
        "vcard'>Anna Autorin</span> am <time class='entry-date published' "
        "datetime='2024-01-15T10:00:00+01:00'>15. Januar 2024</time></div>"
        f"<div class='entry-content'>{body}</div></article>{links}</main>"
        "<footer><p>© Testblog</p></footer></body></html>"
    )


def sitemap(base: str, paths: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{base}{p}</loc><lastmod>2024-01-15</lastmod></url>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset '
        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def good_blog(n: int = 5, prefix: str = "/2024/01/post-") -> dict[str, Route]:
    """A small honest blog: robots.txt naming a sitemap of `n` posts."""
    paths = [f"{prefix}{i}/" for i in range(n)]
    routes: dict[str, Route] = {
        "/robots.txt": Route(
            200, b"User-agent: *\nSitemap: {base}/sitemap.xml\n", {"Content-Type": "text/plain"}
        ),
        "/sitemap.xml": Route(200, sitemap("{base}", paths), {"Content-Type": "application/xml"}),
        "/": Route(200, b"<html><body class='home blog'><h1>Blog</h1></body></html>", HTML),
    }
    for i, path in enumerate(paths):
        routes[path] = Route(200, article(f"Post {i}", text(1000 + i)).encode(), HTML)
    return routes


_NUMBER = re.compile(r"(\d+)")


TRAP_KINDS = ("breadth", "pages", "calendar", "deeper", "loop", "long")


def trap(kind: str):
    """An endless site of one kind: every URL is a post linking to ever new URLs."""

    def route(path: str) -> Route | None:
        if path == "/robots.txt" or path.endswith((".xml", ".xml.gz")) or "feed" in path:
            return None
        numbers = [int(n) for n in _NUMBER.findall(path)] or [0]
        n = max(numbers) + 1
        links = {
            "breadth": [f"/w/{n}-{k}/" for k in range(8)],  # only the request budget ends it
            "pages": [f"/page/{n}/"],  # endless pagination: ever more link hops
            "calendar": [f"/calendar/?month={n}", f"/item?id={n}"],  # query-only variations
            "deeper": [f"{path.split('?')[0].rstrip('/')}/x{n}/"],  # ever deeper paths
            "loop": [f"/loop/a/b/{'a/b/' * n}{n}/"],  # repeated segments
            "long": [f"/long/{n}/" + "y" * (50 * n) + "/"],  # ever longer URLs
        }[kind]
        anchors = "".join(f"<a href='{u}'>weiter {i}</a> " for i, u in enumerate(links))
        body = article(f"Falle {kind} {n}", text(n), links=anchors)
        return Route(200, body.encode(), HTML)

    return route
