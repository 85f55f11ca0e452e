"""Unit tests for crawler.discovery: inline fixtures modelled on the blogfarm's WordPress 6.1."""

from __future__ import annotations

import gzip

import pytest

from crawler import discovery
from crawler.discovery import (
    DiscoveryError,
    feed_candidates,
    parse_feed,
    parse_robots,
    parse_sitemap,
    sitemap_candidates,
    sitemap_kind,
    wordpress_feed_page,
)

BASE = "http://127.0.0.1:18080"

# --------------------------------------------------------------------------- robots.txt

WP_ROBOTS = b"""User-agent: *
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php

Sitemap: http://127.0.0.1:18080/wp-sitemap.xml
"""


def test_robots_wordpress() -> None:
    info = parse_robots(WP_ROBOTS, f"{BASE}/robots.txt")
    assert info.sitemaps == [f"{BASE}/wp-sitemap.xml"]
    assert info.crawl_delay is None


def test_robots_sitemaps_and_crawl_delay() -> None:
    body = (
        b"\xef\xbb\xbfUser-agent: *\r\nCrawl-delay: 2.5\r\nDisallow: /private/\r\n\r\n"
        b"User-agent: BadBot\r\nDisallow: /\r\nCrawl-delay: 60\r\n\r\n"
        b"Sitemap: https://example.org/sitemap_index.xml\r\n"
        b"sitemap: /post-sitemap.xml\r\n"
        b"Sitemap: https://example.org/sitemap_index.xml\r\n"
    )
    info = parse_robots(body, "https://example.org/robots.txt", user_agent="blogarchive")
    assert info.sitemaps == [
        "https://example.org/sitemap_index.xml",
        "https://example.org/post-sitemap.xml",  # relative: resolved, duplicate dropped
    ]
    assert info.crawl_delay == 2.5


def test_robots_crawl_delay_for_our_agent_wins() -> None:
    body = b"User-agent: *\nCrawl-delay: 10\n\nUser-agent: blogarchive\nCrawl-delay: 1\n"
    assert parse_robots(body, "https://e.org/robots.txt", "blogarchive").crawl_delay == 1.0
    assert parse_robots(body, "https://e.org/robots.txt", "otherbot").crawl_delay == 10.0
    # our group exists but sets no delay: fall back to the * group's
    body = b"User-agent: *\nCrawl-delay: 3\n\nUser-agent: blogarchive\nDisallow: /x\n"
    assert parse_robots(body, "https://e.org/robots.txt", "blogarchive").crawl_delay == 3.0


def test_robots_empty_and_html() -> None:
    assert parse_robots(b"", "https://e.org/robots.txt").sitemaps == []
    with pytest.raises(DiscoveryError, match="HTML"):
        parse_robots(b"<!DOCTYPE html><html><body>404</body></html>", "https://e.org/robots.txt")


# --------------------------------------------------------------------------- sitemaps

WP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:18080/wp-sitemap-index.xsl" ?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>http://127.0.0.1:18080/wp-sitemap-posts-post-1.xml</loc></sitemap><sitemap><loc>http://127.0.0.1:18080/wp-sitemap-posts-page-1.xml</loc></sitemap><sitemap><loc>http://127.0.0.1:18080/wp-sitemap-taxonomies-category-1.xml</loc></sitemap><sitemap><loc>http://127.0.0.1:18080/wp-sitemap-users-1.xml</loc></sitemap></sitemapindex>
"""  # noqa: E501

WP_POSTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:18080/wp-sitemap.xsl" ?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://127.0.0.1:18080/2011/03/twitter-experiment-danke-sagen/</loc></url><url><loc>http://127.0.0.1:18080/2019/05/sauerteigbrot-fuer-anfaenger/</loc><lastmod>2019-05-12T13:20:00+00:00</lastmod></url></urlset>
"""  # noqa: E501


def test_sitemap_index_wordpress_core() -> None:
    sm = parse_sitemap(WP_INDEX, f"{BASE}/wp-sitemap.xml")
    assert sm.kind == "index"
    assert [e.loc for e in sm.entries] == [
        f"{BASE}/wp-sitemap-posts-post-1.xml",
        f"{BASE}/wp-sitemap-posts-page-1.xml",
        f"{BASE}/wp-sitemap-taxonomies-category-1.xml",
        f"{BASE}/wp-sitemap-users-1.xml",
    ]
    assert not sm.recovered


def test_sitemap_urlset_wordpress_core() -> None:
    sm = parse_sitemap(WP_POSTS, f"{BASE}/wp-sitemap-posts-post-1.xml")
    assert sm.kind == "urlset"
    assert sm.entries == [
        discovery.SitemapEntry(f"{BASE}/2011/03/twitter-experiment-danke-sagen/", None),
        discovery.SitemapEntry(
            f"{BASE}/2019/05/sauerteigbrot-fuer-anfaenger/", "2019-05-12T13:20:00+00:00"
        ),
    ]


def test_sitemap_nested_index_of_indexes() -> None:
    body = b"""<?xml version="1.0"?>
    <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://e.org/sitemap_index_2.xml</loc><lastmod>2024-01-02</lastmod></sitemap>
      <sitemap><loc>https://e.org/post-sitemap.xml.gz</loc></sitemap>
    </sitemapindex>"""
    sm = parse_sitemap(body, "https://e.org/sitemap_index.xml")
    assert sm.kind == "index"
    assert [(e.loc, e.lastmod) for e in sm.entries] == [
        ("https://e.org/sitemap_index_2.xml", "2024-01-02"),
        ("https://e.org/post-sitemap.xml.gz", None),
    ]


def test_sitemap_gzipped_detected_by_magic() -> None:
    sm = parse_sitemap(gzip.compress(WP_POSTS), f"{BASE}/sitemap.xml")  # no .gz in the URL
    assert sm.kind == "urlset"
    assert len(sm.entries) == 2


def test_sitemap_gzip_bomb_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "MAX_DECOMPRESSED_BYTES", 1000)
    big = WP_POSTS.replace(b"</urlset>", b"<!--" + b"x" * 5000 + b"--></urlset>")
    with pytest.raises(DiscoveryError, match="larger than"):
        parse_sitemap(gzip.compress(big), "https://e.org/sitemap.xml.gz")


def test_sitemap_truncated_gzip() -> None:
    with pytest.raises(DiscoveryError, match="gzip"):
        parse_sitemap(gzip.compress(WP_POSTS)[:40], "https://e.org/sitemap.xml.gz")


def test_sitemap_bom_no_namespace_whitespace_in_loc() -> None:
    body = (
        b"\xef\xbb\xbf\n  <?xml version='1.0' encoding='utf-8'?>\n<urlset>\n <url>\n  <loc>\n"
        b"     https://e.org/a/\n  </loc>\n </url>\n <url><loc> https://e.org/b/ </loc>"
        b"<lastmod> 2020-01-01 </lastmod></url>\n</urlset>"
    )
    sm = parse_sitemap(body, "https://e.org/sitemap.xml")
    assert [(e.loc, e.lastmod) for e in sm.entries] == [
        ("https://e.org/a/", None),
        ("https://e.org/b/", "2020-01-01"),
    ]


def test_sitemap_ignores_image_and_alternate_locs() -> None:
    body = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
      xmlns:xhtml="http://www.w3.org/1999/xhtml">
      <url><loc>https://e.org/post/</loc>
        <image:image><image:loc>https://e.org/wp-content/uploads/a.jpg</image:loc></image:image>
        <xhtml:link rel="alternate" hreflang="en" href="https://e.org/en/post/"/>
      </url></urlset>"""
    sm = parse_sitemap(body, "https://e.org/post-sitemap.xml")
    assert [e.loc for e in sm.entries] == ["https://e.org/post/"]


def test_sitemap_unescaped_ampersand_is_repaired_not_mangled() -> None:
    body = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://e.org/?p=1&lang=de</loc></url>
      <url><loc>https://e.org/a&amp;b/</loc></url></urlset>"""
    sm = parse_sitemap(body, "https://e.org/sitemap.xml")
    assert [e.loc for e in sm.entries] == ["https://e.org/?p=1&lang=de", "https://e.org/a&b/"]
    assert sm.recovered


def test_sitemap_truncated_keeps_only_complete_entries() -> None:
    body = WP_POSTS[: WP_POSTS.index(b"sauerteigbrot-fuer-an") + len(b"sauerteigbrot-fuer-an")]
    sm = parse_sitemap(body, f"{BASE}/wp-sitemap-posts-post-1.xml")
    assert [e.loc for e in sm.entries] == [f"{BASE}/2011/03/twitter-experiment-danke-sagen/"]
    assert sm.recovered


def test_sitemap_empty_urlset_is_valid() -> None:
    body = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>'
    sm = parse_sitemap(body, "https://e.org/sitemap.xml")
    assert sm.kind == "urlset"
    assert sm.entries == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<?xml version='1.0'?><urlset><url><loc", "malformed XML"),
        (b"<urlset><url><loc>https://e.org/a/</url", "malformed XML"),
        (b"\x00\x01\x02garbage<<<", "not a sitemap"),
        (b"<!DOCTYPE html>\n<html><head><title>404</title></head><body></body></html>", "HTML"),
        (b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"/>', "HTML"),
        (b'<?xml version="1.0"?><foo><url><loc>https://e.org/</loc></url></foo>', "<foo>"),
        (b'{"urls": []}', "JSON"),
        (b"hello world\n", "not a sitemap"),
        (b"<urlset><url><loc>javascript:alert(1)</loc></url></urlset>", "none of 1"),
    ],
)
def test_sitemap_malformed_raises(body: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError, match=reason) as err:
        parse_sitemap(body, "https://e.org/sitemap.xml")
    assert err.value.url == "https://e.org/sitemap.xml"
    assert reason in err.value.reason


def test_sitemap_text_format() -> None:
    sm = parse_sitemap(b"https://e.org/a/\n\nhttps://e.org/b/\n", "https://e.org/sitemap.txt")
    assert [e.loc for e in sm.entries] == ["https://e.org/a/", "https://e.org/b/"]


def test_sitemap_feed_used_as_sitemap() -> None:
    sm = parse_sitemap(WP_RSS, f"{BASE}/feed/")
    assert sm.kind == "urlset"
    assert sm.entries[0].loc == f"{BASE}/2024/05/leitfaden-das-erste-eigene-blog/"
    assert sm.entries[0].lastmod == "2024-05-05T07:30:00+00:00"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (f"{BASE}/wp-sitemap-posts-post-1.xml", "post"),
        (f"{BASE}/wp-sitemap-posts-post-12.xml", "post"),
        (f"{BASE}/wp-sitemap-posts-page-1.xml", "page"),
        (f"{BASE}/wp-sitemap-taxonomies-category-1.xml", "other"),
        (f"{BASE}/wp-sitemap-taxonomies-post_tag-1.xml", "other"),
        (f"{BASE}/wp-sitemap-users-1.xml", "other"),
        (f"{BASE}/wp-sitemap-posts-product-1.xml", None),  # custom post type: unknown
        (f"{BASE}/wp-sitemap.xml", None),
        (f"{BASE}/?sitemap=posts&sitemap-subtype=post&paged=1", "post"),
        ("https://e.org/post-sitemap.xml", "post"),  # Yoast / Rank Math
        ("https://e.org/post-sitemap2.xml", "post"),
        ("https://e.org/page-sitemap.xml", "page"),
        ("https://e.org/category-sitemap.xml", "other"),
        ("https://e.org/post_tag-sitemap.xml", "other"),
        ("https://e.org/author-sitemap.xml", "other"),
        ("https://e.org/sitemap_index.xml", None),
        ("https://e.org/blog/post-sitemap.xml.gz", "post"),
        ("https://e.org/sitemap-pt-post-2019-05.xml", "post"),  # Google XML Sitemaps
        ("https://e.org/sitemap-tax-category.xml", "other"),
        ("https://x.blogspot.com/sitemap-pages.xml", "page"),
        ("https://e.org/sitemap.xml", None),
        ("https://e.org/news-sitemap.xml", None),
    ],
)
def test_sitemap_kind(url: str, kind: str | None) -> None:
    assert sitemap_kind(url) == kind


def test_sitemap_candidates() -> None:
    assert sitemap_candidates(f"{BASE}/") == [
        f"{BASE}/wp-sitemap.xml",
        f"{BASE}/sitemap.xml",
        f"{BASE}/sitemap_index.xml",
    ]
    assert sitemap_candidates("https://www.e.org/blog/") == [
        "https://www.e.org/blog/wp-sitemap.xml",
        "https://www.e.org/blog/sitemap.xml",
        "https://www.e.org/blog/sitemap_index.xml",
        "https://www.e.org/wp-sitemap.xml",
        "https://www.e.org/sitemap.xml",
        "https://www.e.org/sitemap_index.xml",
    ]


# --------------------------------------------------------------------------- feeds

WP_RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>

<channel>
	<title>Blogfarm Testblog</title>
	<atom:link href="http://127.0.0.1/feed/" rel="self" type="application/rss+xml" />
	<link>http://127.0.0.1:18080</link>
	<description>Texte über Social Media, Karriere, Technik und Küche</description>
	<lastBuildDate>Sun, 05 May 2024 07:30:00 +0000</lastBuildDate>
	<language>de-DE</language>
	<sy:updatePeriod>
	hourly	</sy:updatePeriod>
	<generator>https://wordpress.org/?v=6.1.9</generator>
	<item>
		<title>Leitfaden: Das erste eigene Blog &#8211; von der Idee</title>
		<link>http://127.0.0.1:18080/2024/05/leitfaden-das-erste-eigene-blog/</link>
					<comments>http://127.0.0.1:18080/2024/05/leitfaden-das-erste-eigene-blog/#comments</comments>

		<dc:creator><![CDATA[Redaktion]]></dc:creator>
		<pubDate>Sun, 05 May 2024 07:30:00 +0000</pubDate>
				<category><![CDATA[Allgemein]]></category>
		<category><![CDATA[Karriere]]></category>
		<category><![CDATA[Bloggen]]></category>
		<guid isPermaLink="false">http://127.0.0.1:18080/?p=60</guid>

					<description><![CDATA[Wer heute ein Blog startet &#8230; <a class="more-link" href="http://127.0.0.1:18080/2024/05/leitfaden-das-erste-eigene-blog/">Weiterlesen</a>]]></description>
										<content:encoded><![CDATA[
<p>Wer heute ein Blog startet, steht vor mehr Entscheidungen &amp; Fragen.</p>
<span id="more-60"></span>
<figure class="wp-block-table"><table><tr><td>0 bis 10 &euro;</td></tr></table></figure>
]]></content:encoded>
					<wfw:commentRss>http://127.0.0.1:18080/2024/05/leitfaden-das-erste-eigene-blog/feed/</wfw:commentRss>
			<slash:comments>3</slash:comments>
		</item>
	<item>
		<title>Sauerteigbrot für Anfänger: Schritt für Schritt</title>
		<link>http://127.0.0.1:18080/2019/05/sauerteigbrot-fuer-anfaenger/</link>
		<dc:creator><![CDATA[Lena Schmidt]]></dc:creator>
		<pubDate>Sun, 12 May 2019 13:20:00 GMT</pubDate>
		<category><![CDATA[Kochen]]></category>
		<category><![CDATA[Rezept]]></category>
		<category><![CDATA[Kochen]]></category>
		<guid isPermaLink="false">http://127.0.0.1:18080/?p=12</guid>
		<content:encoded><![CDATA[<p>Brot.</p>]]></content:encoded>
	</item>
	</channel>
</rss>
""".encode()  # noqa: E501


def test_feed_wordpress_rss2() -> None:
    feed = parse_feed(WP_RSS, f"{BASE}/feed/")
    assert feed.format == "rss"
    assert feed.title == "Blogfarm Testblog"
    assert feed.next_url is None  # the port-less atom:link rel=self is neither item nor next page
    assert [i.link for i in feed.items] == [
        f"{BASE}/2024/05/leitfaden-das-erste-eigene-blog/",
        f"{BASE}/2019/05/sauerteigbrot-fuer-anfaenger/",
    ]
    first, second = feed.items
    assert first.hints.title == "Leitfaden: Das erste eigene Blog \u2013 von der Idee"
    assert first.hints.authors == ["Redaktion"]
    assert first.hints.published == "2024-05-05T07:30:00+00:00"
    assert first.hints.categories == ["Allgemein", "Karriere", "Bloggen"]
    assert first.hints.in_feed is True
    assert first.hints.updated is None
    # GMT pubDate -> aware ISO 8601; duplicate category once
    assert second.hints.published == "2019-05-12T13:20:00+00:00"
    assert second.hints.authors == ["Lena Schmidt"]
    assert second.hints.categories == ["Kochen", "Rezept"]
    assert not feed.recovered


def test_feed_rss_guid_permalink_author_and_dates() -> None:
    body = b"""<rss version="2.0"><channel><title>T</title>
      <item><guid>https://e.org/a/</guid><author>jo@e.org (Jo Doe)</author>
        <pubDate>Tue, 10 Jun 2003 04:00:00 -0700</pubDate></item>
      <item><guid isPermaLink="true">https://e.org/b/</guid><author>Ann</author>
        <pubDate>Tue, 10 Jun 2003 09:41:01 CEST</pubDate></item>
      <item><guid isPermaLink="false">tag:e.org,2003:c</guid><title>no link</title></item>
      <item><guid isPermaLink="false">https://e.org/?p=99</guid><title>not a link</title></item>
      <item><title>no link at all</title><description>x</description></item>
      <item><link>/relative/post/</link><pubDate>not a date</pubDate></item>
      <item><link>https://e.org/a/</link><title>duplicate link</title></item>
    </channel></rss>"""
    feed = parse_feed(body, "https://e.org/blog/feed/")
    assert [i.link for i in feed.items] == [
        "https://e.org/a/",
        "https://e.org/b/",
        "https://e.org/relative/post/",
    ]
    a, b, rel = feed.items
    assert a.hints.authors == ["Jo Doe"]
    assert a.hints.published == "2003-06-10T04:00:00-07:00"
    assert b.hints.authors == ["Ann"]
    assert b.hints.published == "2003-06-10T09:41:01+02:00"
    assert rel.hints.published is None


def test_feed_feedburner_origlink_preferred() -> None:
    body = b"""<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
      <channel><title>T</title><item><link>http://feedproxy.google.com/~r/x/~3/abc/</link>
      <feedburner:origLink>https://e.org/2020/01/post/</feedburner:origLink></item>
      </channel></rss>"""
    assert [i.link for i in parse_feed(body, "https://feeds.feedburner.com/x").items] == [
        "https://e.org/2020/01/post/"
    ]


def test_feed_rss_atom_next_link() -> None:
    body = b"""<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
      <atom:link rel="self" href="https://e.org/feed/"/>
      <atom:link rel="next" href="/feed/?paged=2"/>
      <item><link>https://e.org/a/</link></item></channel></rss>"""
    assert parse_feed(body, "https://e.org/feed/").next_url == "https://e.org/feed/?paged=2"


WP_ATOM = b"""<?xml version="1.0" encoding="UTF-8"?><feed
	xmlns="http://www.w3.org/2005/Atom"
	xmlns:thr="http://purl.org/syndication/thread/1.0"
	xml:lang="de-DE"
	>
	<title type="text">Blogfarm Testblog</title>
	<updated>2024-05-05T07:30:00Z</updated>
	<link rel="alternate" type="text/html" href="http://127.0.0.1:18080" />
	<id>http://127.0.0.1:18080/feed/atom/</id>
	<link rel="self" type="application/atom+xml" href="http://127.0.0.1/feed/atom/" />
	<entry>
		<author>
			<name>Redaktion</name>
			<uri>http://127.0.0.1:18080</uri>
		</author>
		<title type="html"><![CDATA[Leitfaden: Das erste eigene Blog &#8211; <em>von</em> der Idee]]></title>
		<link rel="alternate" type="text/html" href="http://127.0.0.1:18080/2024/05/leitfaden-das-erste-eigene-blog/" />
		<id>http://127.0.0.1:18080/?p=60</id>
		<updated>2024-05-06T09:00:00Z</updated>
		<published>2024-05-05T07:30:00Z</published>
		<category scheme="http://127.0.0.1:18080" term="Allgemein" /><category scheme="http://127.0.0.1:18080" term="Bloggen" />
		<summary type="html"><![CDATA[Wer heute &#8230;]]></summary>
		<content type="html" xml:base="http://127.0.0.1:18080/2024/05/leitfaden-das-erste-eigene-blog/"><![CDATA[<p>x</p>]]></content>
		<link rel="replies" type="text/html" href="http://127.0.0.1:18080/2024/05/leitfaden-das-erste-eigene-blog/#comments" thr:count="3" />
	</entry>
</feed>
"""  # noqa: E501


def test_feed_wordpress_atom() -> None:
    feed = parse_feed(WP_ATOM, f"{BASE}/feed/atom/")
    assert feed.format == "atom"
    assert feed.title == "Blogfarm Testblog"
    assert feed.next_url is None
    (item,) = feed.items
    assert item.link == f"{BASE}/2024/05/leitfaden-das-erste-eigene-blog/"
    assert item.hints.title == "Leitfaden: Das erste eigene Blog \u2013 von der Idee"
    assert item.hints.authors == ["Redaktion"]
    assert item.hints.published == "2024-05-05T07:30:00+00:00"
    assert item.hints.updated == "2024-05-06T09:00:00+00:00"
    assert item.hints.categories == ["Allgemein", "Bloggen"]


def test_feed_atom_rel_next_xml_base_and_link_choice() -> None:
    body = b"""<?xml version="1.0"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://e.org/blog/">
      <title>Paged</title>
      <link rel="self" href="atom.xml?page=1"/>
      <link rel="next" href="atom.xml?page=2"/>
      <entry><title>Relative</title><link href="2020/01/first/"/>
        <published>2020-01-02T03:04:05.123+01:00</published></entry>
      <entry xml:base="https://e.org/other/"><link rel="edit" href="/edit/2"/>
        <link rel="alternate" type="application/pdf" href="second.pdf"/>
        <link rel="alternate" type="text/html" href="second/"/></entry>
      <entry><title>only edit link</title><link rel="edit" href="/edit/3"/></entry>
    </feed>"""
    feed = parse_feed(body, "https://e.org/blog/atom.xml?page=1")
    assert [i.link for i in feed.items] == [
        "https://e.org/blog/2020/01/first/",
        "https://e.org/other/second/",
    ]
    assert feed.items[0].hints.published == "2020-01-02T03:04:05.123000+01:00"
    assert feed.next_url == "https://e.org/blog/atom.xml?page=2"


def test_feed_next_link_to_itself_is_ignored() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><link rel="next" href="https://e.org/f"/>
      <entry><link href="https://e.org/a/"/></entry></feed>"""
    assert parse_feed(body, "https://e.org/f").next_url is None


BLOGGER = b"""<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' xmlns:blogger='http://schemas.google.com/blogger/2008' xmlns:gd='http://schemas.google.com/g/2005' xmlns:thr='http://purl.org/syndication/thread/1.0'><id>tag:blogger.com,1999:blog-123</id><updated>2024-01-01T10:00:00.000-08:00</updated><category term="Rezepte"/><title type='text'>Ein Blogger-Blog</title><link rel='http://schemas.google.com/g/2005#feed' type='application/atom+xml' href='https://x.blogspot.com/feeds/posts/default'/><link rel='self' type='application/atom+xml' href='https://www.blogger.com/feeds/123/posts/default?start-index=1&amp;max-results=2'/><link rel='alternate' type='text/html' href='https://x.blogspot.com/'/><author><name>Anna</name></author><generator version='7.00' uri='https://www.blogger.com'>Blogger</generator><openSearch:totalResults>5</openSearch:totalResults><openSearch:startIndex>1</openSearch:startIndex><openSearch:itemsPerPage>2</openSearch:itemsPerPage>
<entry><id>tag:blogger.com,1999:blog-123.post-1</id><published>2023-12-24T18:00:00.001+01:00</published><updated>2023-12-25T09:30:00.000+01:00</updated><category scheme="http://www.blogger.com/atom/ns#" term="Rezepte"/><category scheme="http://www.blogger.com/atom/ns#" term="Weihnachten"/><title type='text'>Stollen &amp; Co</title><content type='html'>&lt;p&gt;Text&lt;/p&gt;</content><link rel='replies' type='application/atom+xml' href='https://x.blogspot.com/feeds/1/comments/default' title='Kommentare zum Post'/><link rel='edit' type='application/atom+xml' href='https://www.blogger.com/feeds/123/posts/default/1'/><link rel='self' type='application/atom+xml' href='https://www.blogger.com/feeds/123/posts/default/1'/><link rel='alternate' type='text/html' href='https://x.blogspot.com/2023/12/stollen.html' title='Stollen &amp; Co'/><author><name>Anna</name><uri>https://www.blogger.com/profile/1</uri><gd:image rel='http://schemas.google.com/g/2005#thumbnail' width='16' height='16' src='https://img1.blogblog.com/img/b16-rounded.gif'/></author><thr:total>0</thr:total></entry>
<entry><id>tag:blogger.com,1999:blog-123.post-2</id><published>2023-11-01T08:00:00.000+01:00</published><title type='text'>Zweiter</title><link rel='alternate' type='text/html' href='https://x.blogspot.com/2023/11/zweiter.html' title='Zweiter'/><author><name>Ben</name></author></entry>
</feed>"""  # noqa: E501


def test_feed_blogger_opensearch_paging() -> None:
    url = "https://x.blogspot.com/feeds/posts/default?start-index=1&max-results=2"
    feed = parse_feed(BLOGGER, url)
    assert feed.title == "Ein Blogger-Blog"
    assert [i.link for i in feed.items] == [
        "https://x.blogspot.com/2023/12/stollen.html",
        "https://x.blogspot.com/2023/11/zweiter.html",
    ]
    first = feed.items[0].hints
    assert first.title == "Stollen & Co"
    assert first.authors == ["Anna"]
    assert first.published == "2023-12-24T18:00:00.001000+01:00"
    assert first.updated == "2023-12-25T09:30:00+01:00"
    assert first.categories == ["Rezepte", "Weihnachten"]
    assert feed.next_url == "https://x.blogspot.com/feeds/posts/default?start-index=3&max-results=2"


def test_feed_blogger_last_page_has_no_next() -> None:
    body = BLOGGER.replace(b"<openSearch:startIndex>1<", b"<openSearch:startIndex>5<")
    url = "https://x.blogspot.com/feeds/posts/default?start-index=5&max-results=2"
    assert parse_feed(body, url).next_url is None
    middle = BLOGGER.replace(b"<openSearch:startIndex>1<", b"<openSearch:startIndex>3<")
    url = "https://x.blogspot.com/feeds/posts/default?start-index=3&max-results=2"
    assert parse_feed(middle, url).next_url == (
        "https://x.blogspot.com/feeds/posts/default?start-index=5&max-results=2"
    )


def test_feed_rss1_rdf() -> None:
    body = b"""<?xml version="1.0"?>
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://e.org/"><title>RDF Blog</title><link>https://e.org/</link>
        <items><rdf:Seq><rdf:li rdf:resource="https://e.org/a/"/></rdf:Seq></items>
      </channel>
      <item rdf:about="https://e.org/a/"><title>A</title><link>https://e.org/a/</link>
        <dc:creator>Max</dc:creator><dc:date>2005-03-01T12:00:00+01:00</dc:date>
        <dc:subject>Technik</dc:subject></item>
      <item rdf:about="https://e.org/b/"><title>B, about only</title></item>
    </rdf:RDF>"""
    feed = parse_feed(body, "https://e.org/index.rdf")
    assert feed.format == "rdf"
    assert feed.title == "RDF Blog"
    assert [i.link for i in feed.items] == ["https://e.org/a/", "https://e.org/b/"]
    a = feed.items[0].hints
    assert (a.title, a.authors, a.published, a.categories) == (
        "A",
        ["Max"],
        "2005-03-01T12:00:00+01:00",
        ["Technik"],
    )


def test_feed_empty_is_valid() -> None:
    # what WordPress answers (with status 404) for /feed/?paged=99
    body = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
      xmlns:atom="http://www.w3.org/2005/Atom"><channel>
      <title>Seite nicht gefunden &#8211; Blogfarm Testblog</title>
      <atom:link href="http://127.0.0.1/feed/" rel="self" type="application/rss+xml" />
      <link>http://127.0.0.1:18080</link></channel></rss>"""
    feed = parse_feed(body, f"{BASE}/feed/?paged=99")
    assert feed.items == []
    assert feed.next_url is None
    assert feed.title == "Seite nicht gefunden \u2013 Blogfarm Testblog"
    atom = parse_feed(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>', BASE)
    assert atom.items == []


def test_feed_html_entities_and_stray_ampersand_repaired() -> None:
    body = b"""<rss version="2.0"><channel><title>Caf&eacute; &amp; Co</title>
      <item><title>Tom &amp; Jerry&nbsp;today</title><link>https://e.org/?p=1&lang=de</link>
      <description><![CDATA[a & b &nbsp;]]></description></item></channel></rss>"""
    feed = parse_feed(body, "https://e.org/feed/")
    assert feed.recovered
    assert feed.title == "Caf\u00e9 & Co"
    (item,) = feed.items
    assert item.link == "https://e.org/?p=1&lang=de"
    assert item.hints.title == "Tom & Jerry today"


def test_feed_truncated_keeps_complete_items() -> None:
    cut = WP_RSS[: WP_RSS.index(b"<link>http://127.0.0.1:18080/2019/05/sauerteig") + 40]
    feed = parse_feed(cut, f"{BASE}/feed/")
    assert feed.recovered
    assert [i.link for i in feed.items] == [f"{BASE}/2024/05/leitfaden-das-erste-eigene-blog/"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html>\n<html lang='de'><head></head></html>", "not a feed: HTML"),
        (b"\n\n<html><body><p>hi<br></body></html>", "not a feed: HTML"),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"/>', "not a feed: HTML"),
        (b"", "empty"),
        (b"<rss><channel><item><link", "malformed XML"),
        (b"<?xml version='1.0'?><rss version='2.0'><chan", "malformed XML"),
        (b'<?xml version="1.0"?><rss version="2.0"/>', "without <channel>"),
        (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>', "root element <urlset>"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "JSON"),
        (gzip.compress(b"<html><body>x</body></html>"), "HTML"),
    ],
)
def test_feed_malformed_raises(body: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError) as err:
        parse_feed(body, "https://e.org/feed/")
    assert reason in err.value.reason
    assert err.value.url == "https://e.org/feed/"
    assert "https://e.org/feed/" in str(err.value)


def test_feed_gzipped_and_bom() -> None:
    feed = parse_feed(gzip.compress(b"\xef\xbb\xbf" + WP_RSS), f"{BASE}/feed/")
    assert len(feed.items) == 2


def test_feed_iso8859_encoding() -> None:
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>K\u00fcche'
        "</title><item><title>Br\u00f6tchen</title><link>https://e.org/b/</link></item>"
        "</channel></rss>"
    ).encode("iso-8859-1")
    feed = parse_feed(body, "https://e.org/feed/")
    assert feed.title == "K\u00fcche"
    assert feed.items[0].hints.title == "Br\u00f6tchen"


def test_feed_no_external_entities_resolved() -> None:
    body = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
      <rss version="2.0"><channel><title>&xxe;</title>
      <item><link>https://e.org/a/</link></item></channel></rss>"""
    feed = parse_feed(body, "https://e.org/feed/")
    assert "root:" not in (feed.title or "")
    assert [i.link for i in feed.items] == ["https://e.org/a/"]


# --------------------------------------------------------------------------- paging and probes


@pytest.mark.parametrize(
    ("url", "page", "expected"),
    [
        (f"{BASE}/feed/", 2, f"{BASE}/feed/?paged=2"),
        (f"{BASE}/feed/", 1, f"{BASE}/feed/"),
        (f"{BASE}/feed/?paged=2", 3, f"{BASE}/feed/?paged=3"),
        (f"{BASE}/feed/?paged=3", 1, f"{BASE}/feed/"),
        (f"{BASE}/feed/atom/", 4, f"{BASE}/feed/atom/?paged=4"),
        ("https://e.org/?feed=rss2&cat=3", 2, "https://e.org/?feed=rss2&cat=3&paged=2"),
        ("https://e.org/?paged=5&feed=rss2", 6, "https://e.org/?paged=6&feed=rss2"),
    ],
)
def test_wordpress_feed_page(url: str, page: int, expected: str) -> None:
    assert wordpress_feed_page(url, page) == expected


def test_wordpress_feed_page_rejects_zero() -> None:
    with pytest.raises(ValueError):
        wordpress_feed_page(f"{BASE}/feed/", 0)


def test_feed_candidates() -> None:
    assert feed_candidates(f"{BASE}/") == [
        f"{BASE}/feed/",
        f"{BASE}/feed/atom/",
        f"{BASE}/rss.xml",
        f"{BASE}/atom.xml",
        f"{BASE}/feed.xml",
        f"{BASE}/index.xml",
        f"{BASE}/feeds/posts/default",
        f"{BASE}/rss/",
        f"{BASE}/?feed=rss2",
    ]
    under = feed_candidates("https://e.org/blog")
    assert under[0] == "https://e.org/blog/feed/"
    assert all(u.startswith("https://e.org/blog/") for u in under)
    assert "https://e.org/blog/rss/" in under
