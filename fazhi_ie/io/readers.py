"""Readers for the formats reports come in: .docx, .pdf (text layer), .html, and text in legacy encodings.

Each reader turns a file's bytes into text plus a note on how (`Extracted`); the input layer
(`io/sources.py`) makes the document from that text, so every offset in the output indexes the
extracted text, which the output record keeps. The libraries are an optional extra, imported only
when a file needs them:

    pip install -c constraints.txt -e '.[formats]'    # python-docx (MIT), pdfminer.six (MIT), lxml (BSD), charset-normalizer (MIT)

- `.docx`: the paragraphs (and table cells, row by row) of the body, one per line.
- `.pdf`: the text layer, page by page; a PDF without one (a scanned image) is refused with a message
  that says so, never read as an empty document.
- `.html`/`.htm`: the main text: scripts, styles, navigation, headers, footers, asides, forms and
  elements whose id or class names a menu, breadcrumb, footer, sidebar or share bar are dropped; block
  elements become lines. The page's declared charset decodes it.
- `.txt` that is not UTF-8: GBK/GB18030, Big5 or UTF-16 without a byte-order mark, detected (charset-
  normalizer, or a GB18030 fallback); the note says which.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

EXTRA = "pip install -c constraints.txt -e '.[formats]'"
DOCUMENT_SUFFIXES = (".docx", ".pdf", ".html", ".htm")


class ReaderError(ValueError):
    """A file of a known format that cannot be read; the message says why (one line)."""


@dataclass(frozen=True)
class Extracted:
    """Text taken out of a file, with the format and how it was read (kept in the document's meta)."""

    text: str
    format: str
    how: str


def _need(module: str, suffix: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ReaderError(f"reading {suffix} files needs the formats extra: {EXTRA}") from None


def read_docx(data: bytes) -> Extracted:
    """The body's paragraphs and table rows of a .docx file, one per line."""
    docx = _need("docx", ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a damaged file
        raise ReaderError(f"not a readable .docx file ({type(exc).__name__}: {exc})") from None
    lines = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    cells = ["".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t"))
                             for cell in row.iterchildren() if cell.tag.endswith("}tc")]
                    lines.append("\t".join(cells))
    return Extracted("\n".join(lines), "docx", "paragraphs and table rows of the body")


def read_pdf(data: bytes) -> Extracted:
    """The text layer of a PDF, page by page (pages separated by a form feed)."""
    _need("pdfminer", ".pdf")
    from pdfminer.high_level import extract_text
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        text = extract_text(io.BytesIO(data))
    except (PDFSyntaxError, ValueError, TypeError, KeyError) as exc:
        raise ReaderError(f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    if not text.replace("\f", "").strip():
        raise ReaderError("the PDF has no text layer (a scanned image?); run OCR on it first, then give the text")
    return Extracted(text.rstrip("\f"), "pdf", "text layer (pdfminer.six)")


_NOISE = re.compile(r"nav|menu|breadcrumb|crumb|footer|foot|sidebar|side-bar|share|toolbar|header|banner|copyright",
                    re.I)
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table",
           "blockquote", "pre", "dd", "dt", "td", "th"}


def read_html(data: bytes) -> Extracted:
    """The main text of an HTML page (see the module docstring), block elements as lines."""
    _need("lxml", ".html")
    from lxml import html as lxml_html

    try:
        root = lxml_html.fromstring(data)
    except Exception as exc:  # lxml raises ParserError/ValueError for empty or broken input
        raise ReaderError(f"not a readable HTML page ({type(exc).__name__}: {exc})") from None
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            if element.getparent() is not None:  # comments and processing instructions
                element.drop_tree()
            continue
        tag = element.tag.lower()
        marks = " ".join(element.get(a, "") for a in ("id", "class", "role"))
        if tag in ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template") or \
                (marks.strip() and _NOISE.search(marks) and tag not in ("html", "body")):
            if element.getparent() is not None:
                element.drop_tree()
    body = root.find("body") if root.find("body") is not None else root
    parts: list[str] = []

    def walk(element) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        block = tag in _BLOCKS
        if block:
            parts.append("\n")
        if element.text:
            parts.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(body)
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parts).split("\n")]
    return Extracted("\n".join(line for line in lines if line), "html", "main text (navigation, headers, footers, "
                     "scripts and styles dropped)")


def decode_legacy(data: bytes) -> Extracted | None:
    """Text in a legacy encoding (GBK/GB18030, Big5, UTF-16 without a BOM), or None when it is not text."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        from_bytes = None
    if from_bytes is not None:
        best = from_bytes(data).best()
        if best is not None and best.encoding:
            encoding = best.encoding.replace("_", "-")
            text = str(best)
            if "\x00" not in text and _looks_like_text(text):
                if encoding in ("gb2312", "gbk", "hz"):
                    encoding, text = "gb18030", data.decode("gb18030")  # the superset: same text, no loss
                return Extracted(text, "txt", f"decoded as {encoding} (detected)")
    for encoding in ("gb18030", "big5"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return Extracted(text, "txt", f"decoded as {encoding} (fallback)")
    return None


def _looks_like_text(text: str) -> bool:
    """Mostly Chinese, ASCII, CJK punctuation and full-width forms: what a report decoded right looks like
    (a wrong guess, such as binary read as UTF-16, gives stray symbols and rare letters)."""
    if not text:
        return False
    common = sum(ch in " \t\n\r" or " " <= ch <= "~" or "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                 or "\uff00" <= ch <= "\uffef" or ch in "“”‘’…—·" for ch in text)
    chinese = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return common >= 0.9 * len(text) and chinese >= 0.2 * len(text.split()) and chinese > 0


READERS = {".docx": read_docx, ".pdf": read_pdf, ".html": read_html, ".htm": read_html}
