"""Readers for .docx, .pdf, .html and legacy-encoded text (fazhi_ie.io.readers through the one input layer):
the files are made here from one short report text; offsets index the extracted text, kept in the output."""
from __future__ import annotations

import json

import pytest

from fazhi_ie.cli import main
from fazhi_ie.io.sources import Failure, iter_documents, list_sources

REPORT = ["金塔县2023年法治政府建设年度报告", "2023年，全县受理行政复议案件93件，审结75件。"]


def extract(capsys, path, *extra):
    code = main(["extract", "--engine", "rules", str(path), "-q", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def facts_of(out: str):
    record = json.loads(out.splitlines()[0])
    for fact in record["facts"]:
        start, end = fact["evidence"]["value_span"]
        assert record["text"][start:end] == fact["value"]
    return record, {fact["value"]: fact["number"] for fact in record["facts"]}


def test_docx(tmp_path, capsys):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for line in REPORT:
        document.add_paragraph(line)
    document.save(tmp_path / "r.docx")
    code, out, err = extract(capsys, tmp_path / "r.docx")
    assert code == 0, err
    record, numbers = facts_of(out)
    assert numbers == {"93件": 93.0, "75件": 75.0} and record["meta"]["source_format"] == "docx"


def _pdf(path, lines):
    pytest.importorskip("pdfminer")
    canvas = pytest.importorskip("reportlab.pdfgen.canvas")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path))
    page.setFont("STSong-Light", 12)
    for i, line in enumerate(lines):
        page.drawString(72, 720 - 20 * i, line)
    page.showPage()
    page.save()


def test_pdf_text_layer_and_a_scanned_pdf(tmp_path, capsys):
    _pdf(tmp_path / "r.pdf", REPORT)
    code, out, err = extract(capsys, tmp_path / "r.pdf")
    assert code == 0, err
    record, numbers = facts_of(out)
    assert numbers == {"93件": 93.0, "75件": 75.0} and record["meta"]["source_format"] == "pdf"
    _pdf(tmp_path / "scan.pdf", [])
    code, _, err = extract(capsys, tmp_path / "scan.pdf")
    assert code == 1 and "no text layer (a scanned image?)" in err and len(err.strip().splitlines()) == 1


def test_html_main_text_without_navigation(tmp_path, capsys):
    pytest.importorskip("lxml")
    page = ("<html><head><meta charset='gb18030'><title>报告</title><style>p{color:red}</style></head><body>"
            "<div class='nav-menu'>首页 &gt; 政务公开 &gt; 法治政府建设</div><header>网站头部</header>"
            f"<div class='content'><h1>{REPORT[0]}</h1><p>{REPORT[1]}</p></div>"
            "<footer>主办单位：金塔县人民政府 ICP备案</footer><script>var x = 1;</script></body></html>")
    (tmp_path / "r.html").write_bytes(page.encode("gb18030"))
    code, out, err = extract(capsys, tmp_path / "r.html")
    assert code == 0, err
    record, numbers = facts_of(out)
    assert numbers == {"93件": 93.0, "75件": 75.0}
    assert "首页" not in record["text"] and "主办单位" not in record["text"] and "var x" not in record["text"]
    assert record["text"].splitlines() == REPORT


@pytest.mark.parametrize("encoding", ["gbk", "utf-16-le"])
def test_legacy_encodings_are_detected_with_a_note(tmp_path, capsys, encoding):
    (tmp_path / "r.txt").write_bytes("\n".join(REPORT).encode(encoding))
    code, out, err = extract(capsys, tmp_path / "r.txt")
    assert code == 0, err
    record, numbers = facts_of(out)
    assert numbers == {"93件": 93.0, "75件": 75.0} and "decoded as" in record["meta"]["decoded"]


def test_a_folder_reports_each_file_it_cannot_read(tmp_path):
    (tmp_path / "a.txt").write_text(REPORT[1], encoding="utf-8")
    (tmp_path / "table.xlsx").write_bytes(b"PK\x03\x04 not a report")
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    said = []
    sources = list_sources([str(tmp_path)], warn=said.append)
    assert [s.doc_id for s in sources] == ["a"]
    assert len(said) == 1 and "table.xlsx: skipped: not a document format (.xlsx)" in said[0]


def test_a_damaged_docx_is_one_failure(tmp_path):
    pytest.importorskip("docx")
    (tmp_path / "bad.docx").write_bytes(b"PK\x03\x04 broken")
    [item] = list(iter_documents(list_sources([str(tmp_path / "bad.docx")])))
    assert isinstance(item, Failure) and "not a readable .docx file" in item.reason
