"""Render an (already cleaned) HTML subtree as plain-text blocks and as Markdown.

One walk produces both outputs so they always describe the same body. Block rules follow the
blogfarm ground truth: one block per paragraph, heading, list item, quote paragraph, quote
source, figure caption, table row (cells joined by " | ") and table caption; pre/code keep their
line breaks; <br> is a line break; images, scripts and form controls give nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from crawler.extract.safeurl import urljoin

SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "form", "button", "select", "textarea",
        "svg", "iframe", "input", "img", "picture", "source", "video", "audio", "object",
        "embed", "canvas", "map", "head", "title", "meta", "link", "label", "option", "math",
    }
)  # fmt: skip
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "figure",
        "figcaption", "caption", "dl", "dt", "dd", "address", "hr", "details", "summary",
        "center", "body", "html", "fieldset", "legend", "hgroup", "cite", "ul", "ol", "li",
        "blockquote", "table", "pre", "tr", "td", "th", "thead", "tbody", "tfoot", "menu",
    }
) | frozenset(HEADINGS)  # fmt: skip
_WS = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_MD_ESCAPE = re.compile(r"([\\`*_\[\]])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])(?=\s|$)")


def norm_ws(text: str) -> str:
    """Collapse every run of whitespace (NBSP, thin spaces too) into one space and strip."""
    if "\u200b" in text or "\ufeff" in text:  # the two that str.split() keeps
        return _WS.sub(" ", text).strip()
    return " ".join(text.split())


def _md_escape(text: str) -> str:
    return _MD_ESCAPE.sub(r"\\\1", text)


@dataclass
class Block:
    """One body block: its plain text and its Markdown (without quote prefixes)."""

    kind: str  # p, h, li, pre, table, caption
    text: str
    md: str
    quote: tuple[int, ...] = ()  # numbers of the enclosing blockquotes, outermost first


@dataclass
class _ListState:
    ordered: bool
    counter: int


@dataclass
class _Renderer:
    base_url: str
    blocks: list[Block] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    md: list[str] = field(default_factory=list)
    lists: list[_ListState] = field(default_factory=list)
    quotes: list[int] = field(default_factory=list)
    quote_count: int = 0  # numbers each blockquote (an lxml proxy's id() is reused once freed)
    prefix_md: str = ""  # Markdown marker of the block being collected (heading, list item)
    kind: str = "p"
    flushes: int = 0

    # -- buffer handling
    def flush(self) -> None:
        """Close the block being collected (if it has any text)."""
        self.flushes += 1
        plain_lines = [norm_ws(line) for line in "".join(self.plain).split("\n")]
        plain_lines = [line for line in plain_lines if line]
        md_lines = [norm_ws(line) for line in "".join(self.md).split("\n")]
        md_lines = [line for line in md_lines if line]
        kind, prefix = self.kind, self.prefix_md
        self.plain, self.md, self.kind, self.prefix_md = [], [], "p", ""
        if not plain_lines:
            return
        if not prefix:
            md_lines[0] = _MD_LINE_START.sub(r"\1\\\2", md_lines[0])
        if kind == "li":
            indent = " " * (len(prefix))
            md = prefix + ("\n" + indent).join(md_lines)
        elif kind == "h":
            md = prefix + " ".join(md_lines)
        else:
            md = "  \n".join(md_lines)
        self.blocks.append(Block(kind, "\n".join(plain_lines), md, tuple(self.quotes)))

    def add(self, text: str | None) -> None:
        if text:
            text = _WS.sub(" ", text)  # source line breaks are spaces; only <br> breaks lines
            self.plain.append(text)
            self.md.append(_md_escape(text))

    # -- walking
    def walk(self, el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower()
        if not tag or tag in SKIP_TAGS:
            return
        if tag == "br":
            self.plain.append("\n")
            self.md.append("\n")
        elif tag in ("pre", "table"):
            self.flush()
            gutter = gutter_code(el) if tag == "table" else None
            if gutter is not None:
                self._code(*gutter)
            elif tag == "pre":
                self._pre(el)
            else:
                self._table(el)
        elif tag in BLOCK_TAGS:
            self._block(el, tag)
        else:
            self._inline(el, tag)

    def _children(self, el: etree._Element) -> None:
        self.add(el.text)
        for child in el:
            self.walk(child)
            self.add(child.tail)

    def _block(self, el: etree._Element, tag: str) -> None:
        self.flush()
        pushed_list = pushed_quote = False
        if tag in ("ul", "ol", "menu"):
            start = el.get("start", "1")
            self.lists.append(_ListState(tag == "ol", int(start) if start.isdigit() else 1))
            pushed_list = True
        elif tag == "blockquote":
            self.quote_count += 1
            self.quotes.append(self.quote_count)
            pushed_quote = True
        elif tag in HEADINGS:
            self.kind, self.prefix_md = "h", "#" * HEADINGS[tag] + " "
        elif tag == "li":
            depth = max(len(self.lists) - 1, 0)
            state = self.lists[-1] if self.lists else _ListState(False, 1)
            marker = f"{state.counter}. " if state.ordered else "- "
            state.counter += 1
            self.kind, self.prefix_md = "li", "  " * depth + marker
        elif tag in ("figcaption", "caption"):
            self.kind = "caption"
        self._children(el)
        self.flush()
        if pushed_list:
            self.lists.pop()
        if pushed_quote:
            self.quotes.pop()

    def _inline(self, el: etree._Element, tag: str) -> None:
        start, flushes = len(self.md), self.flushes
        self._children(el)
        if self.flushes != flushes or tag not in ("a", "strong", "b", "em", "i", "code"):
            return
        inner = "".join(self.md[start:])
        core = inner.strip()
        if not core or "\n" in core:
            return
        if tag == "a":
            href = (el.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                return
            target = urljoin(self.base_url, href)
            if not target:  # a broken URL: the words stay, unlinked
                return
            wrapped = f"[{core}]({target.replace(')', '%29')})"
        elif tag == "code":
            raw = "".join(el.itertext())
            wrapped = f"`{norm_ws(raw)}`"
        else:
            mark = "**" if tag in ("strong", "b") else "*"
            wrapped = f"{mark}{core}{mark}"
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()) :]
        self.md[start:] = [lead + wrapped + trail]

    def _pre(self, el: etree._Element) -> None:
        lang = ""
        for cls in (el.get("class") or "").split() + _code_classes(el):
            if cls.startswith(("language-", "lang-")):
                lang = cls.split("-", 1)[1]
                break
        self._code("".join(_pre_text(el)), lang)

    def _code(self, raw: str, lang: str) -> None:
        raw = raw.replace("\u00a0", " ").replace("\r\n", "\n")
        lines = raw.split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            return
        text = "\n".join(line.rstrip() for line in lines if line.strip())
        code = "\n".join(line.rstrip() for line in lines)
        fence = "```"
        while fence in code:
            fence += "`"
        self.blocks.append(
            Block("pre", text, f"{fence}{lang}\n{code}\n{fence}", tuple(self.quotes))
        )

    def _table(self, el: etree._Element) -> None:
        rows: list[list[str]] = []
        head_rows = 0
        caption = ""
        for child in el.iter():
            if child is el or not isinstance(child.tag, str):
                continue
            tag = child.tag.lower()
            if tag == "caption" and _owner_table(child) is el:
                caption = norm_ws(_inline_text(child))
            elif tag == "tr" and _owner_table(child) is el:
                cells = [
                    c for c in child if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")
                ]
                row = [norm_ws(_inline_text(c)) for c in cells]
                if not "".join(row).strip():
                    continue
                if not rows and (
                    all(c.tag.lower() == "th" for c in cells)
                    or (child.getparent() is not None and child.getparent().tag == "thead")
                ):
                    head_rows = 1
                rows.append(row)
        if caption:
            self.blocks.append(
                Block("caption", caption, f"*{_md_escape(caption)}*", tuple(self.quotes))
            )
        if not rows:
            return
        text = "\n\n".join(" | ".join(row) for row in rows)
        width = max(len(row) for row in rows)
        grid = [row + [""] * (width - len(row)) for row in rows]
        cell = lambda s: _md_escape(s).replace("|", "\\|")  # noqa: E731
        if head_rows:
            header, body = grid[0], grid[1:]
        else:
            header, body = [""] * width, grid
        lines = ["| " + " | ".join(cell(c) for c in header) + " |"]
        lines.append("|" + "|".join(["---"] * width) + "|")
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in body]
        self.blocks.append(Block("table", text, "\n".join(lines), tuple(self.quotes)))


_LINE_NUMBERS = re.compile(r"^[\d\s]*$")
_GUTTER_CLASSES = frozenset({"gutter", "linenos", "lineno", "line-numbers", "hljs-ln-numbers",
                             "gl", "ln", "line-number", "code-gutter"})  # fmt: skip
_CODE_CLASSES = frozenset({"code", "hljs-ln-code", "highlight", "line-code", "blob-code"})
_LANG_PREFIXES = ("language-", "lang-")


def _cell_classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def gutter_code(table: etree._Element) -> tuple[str, str] | None:
    """(code, language) of a table that is a code block with a line-number gutter (Hexo,
    Pygments `linenos="table"`, Rouge, highlight.js line-number plugins): each row a cell of
    line numbers only and a cell of code. None for any other table."""
    rows = [r for r in table.iter("tr") if _owner_table(r) is table]
    if not rows:
        return None
    lines: list[str] = []
    marked = False
    for row in rows:
        cells = [c for c in row if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
        if len(cells) != 2:
            return None
        numbers, code = cells
        if not _LINE_NUMBERS.match("".join(numbers.itertext())):
            return None
        classes = _cell_classes(numbers) | _cell_classes(code)
        has_pre = code.find(".//pre") is not None or code.tag == "pre"
        if classes & (_GUTTER_CLASSES | _CODE_CLASSES) or has_pre:
            marked = True
        pres = code.findall(".//pre")
        lines.append("".join(_pre_text(pres[0] if pres else code)).rstrip("\n"))
    if not marked:
        return None
    lang = ""
    for el in table.iter():
        for cls in _cell_classes(el) if isinstance(el.tag, str) else ():
            if cls.startswith(_LANG_PREFIXES):
                lang = cls.split("-", 1)[1]
                break
        if lang:
            break
    if not lang:
        figure = table.getparent()
        tokens = _cell_classes(figure) if figure is not None else set()
        if "highlight" in tokens and len(tokens) == 2:
            lang = next(t for t in tokens if t != "highlight")  # Hexo: class="highlight python"
    return "\n".join(lines), lang


def _owner_table(el: etree._Element) -> etree._Element | None:
    parent = el.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _code_classes(el: etree._Element) -> list[str]:
    return [c for code in el.iter("code") for c in (code.get("class") or "").split()]


def _pre_text(el: etree._Element) -> list[str]:
    """Text of a pre block, <br> as newline, skipping script/style."""
    out: list[str] = [el.text or ""]
    for child in el:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag == "br":
            out.append("\n")
        elif tag and tag not in SKIP_TAGS:
            out.extend(_pre_text(child))
        out.append(child.tail or "")
    return out


def _inline_text(el: etree._Element) -> str:
    """Text of a table cell or caption: every descendant's text, <br> as a space."""
    out: list[str] = [el.text or ""]
    for child in el:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag and tag not in SKIP_TAGS:
            out.append(" " if tag in BLOCK_TAGS or tag == "br" else "")
            out.append(_inline_text(child))
            out.append(" " if tag in BLOCK_TAGS else "")
        out.append(child.tail or "")
    return "".join(out)


def render_blocks(root: etree._Element, base_url: str = "") -> list[Block]:
    """The blocks of `root` (its own tag counts as a block boundary), in document order."""
    renderer = _Renderer(base_url)
    renderer.walk(root)
    renderer.flush()
    return renderer.blocks


def blocks_to_text(blocks: list[Block]) -> str:
    return "\n\n".join(b.text for b in blocks)


def blocks_to_markdown(blocks: list[Block]) -> str:
    """Join blocks as Markdown; consecutive blocks of one blockquote stay one quote."""
    parts: list[str] = []
    prev: Block | None = None
    for block in blocks:
        prefix = "> " * len(block.quote)
        body = "\n".join((prefix + line).rstrip() for line in block.md.split("\n"))
        if prev is not None:
            same_list = prev.kind == "li" and block.kind == "li" and prev.quote == block.quote
            if same_list:
                parts.append("\n")
            elif block.quote and prev.quote[:1] == block.quote[:1]:
                parts.append("\n" + ">" * min(len(prev.quote), len(block.quote)) + "\n")
            else:
                parts.append("\n\n")
        parts.append(body)
        prev = block
    return "".join(parts)
