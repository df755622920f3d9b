"""The HTML review page (fazhi_ie.analysis.html_view): self-contained, escaped, and its review tools
(sort, filter, search, score threshold, duplicates, jump to evidence) driven in headless Chromium."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

import fazhi_ie
from conftest import ROOT
from fazhi_ie import Document, Evidence, Fact
from fazhi_ie.analysis import html_view
from fazhi_ie.cli import main

TEXT_A = "今年来，城关区受理行政复议案件93件，行政机关负责人出庭应诉率达100%。"
SAMPLE = ROOT / "fazhi_ie" / "data" / "sample_report.txt"
#: scores given to the sample's facts in turn: two of every six are below the 0.5 "low" mark
SCORES = (0.92, 0.75, 0.6, 0.45, 0.3, 0.55)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small_doc() -> Document:
    return fazhi_ie.load(engine="rules")(TEXT_A, meta={"region": "兰州市城关区", "year": 2023}, doc_id="a")


@pytest.fixture(scope="module")
def review_doc() -> Document:
    """The sample report through the rule engine, its facts given varied scores, two of them marked
    duplicates of earlier facts and one a from-to pair (the rule engine scores every fact alike)."""
    doc = fazhi_ie.load(engine="rules")(SAMPLE.read_text(encoding="utf-8"), doc_id="sample")
    facts = [dataclasses.replace(f, score=SCORES[i % len(SCORES)]) for i, f in enumerate(doc.facts)]
    facts[20] = dataclasses.replace(facts[20], duplicate_of=facts[2].evidence.value_span)
    facts[21] = dataclasses.replace(facts[21], duplicate_of=facts[3].evidence.value_span)
    facts[1] = dataclasses.replace(facts[1], previous_value="三个", previous_number=3.0)
    assert len(facts) > 60
    return doc.with_annotations(facts=facts)


def shown_text(fact: Fact) -> str:
    """The searchable text a fact's row shows (its text columns)."""
    return " ".join(x or "" for x in (fact.metric, fact.value, fact.unit, fact.previous_value, fact.qualifier,
                                      fact.change, fact.agent, fact.time, fact.period, fact.program))


# --- the page as text ---------------------------------------------------------------------------
class _Scripts(HTMLParser):
    """Collects the page's <script> elements (attributes and text)."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append((dict(attrs), ""))
            self._in = True

    def handle_endtag(self, tag):
        self._in = self._in and tag != "script"

    def handle_data(self, data):
        if self._in:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def scripts_of(html: str) -> list[tuple[dict, str]]:
    parser = _Scripts()
    parser.feed(html)
    return parser.scripts


def test_render_is_self_contained_and_links_facts(small_doc):
    html = fazhi_ie.render(small_doc)
    assert html.startswith("<!DOCTYPE html>") and "http://" not in html and "https://" not in html
    assert "<link" not in html and "@import" not in html and "src=" not in html and "url(" not in html
    [(attrs, script)] = scripts_of(html)  # one inline script, nothing loaded
    assert attrs == {} and script == html_view._SCRIPT
    assert html.count('class="fact') == len(small_doc.facts)
    for fact in small_doc.facts:
        assert f'href="#v-{fact.evidence.value_span[0]}"' in html and f'id="v-{fact.evidence.value_span[0]}"' in html
    assert html.count('class="relation"') == len(small_doc.relations)
    assert "HAS_VALUE → 93件" in html  # relations also show on hover over each entity in the text


def test_content_security_policy_allows_only_the_page_script(small_doc):
    html = fazhi_ie.render(small_doc)
    [policy] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert "default-src 'none'" in policy
    [digest] = re.findall(r"script-src 'sha256-([A-Za-z0-9+/=]+)'", policy)
    assert digest == base64.b64encode(hashlib.sha256(scripts_of(html)[0][1].encode()).digest()).decode()


def test_render_escapes_script_tags_and_nul():
    text = "<script>alert(1)</script>全区受理\x00案件93件。"
    doc = fazhi_ie.load(engine="rules")(text, meta={"title": "</title><script>alert(2)</script>"})
    m0, v0 = text.index("受理"), text.index("93件")
    hostile = Fact(metric='<img src=x onerror="alert(3)">', value="93件", number=93.0, unit="件", qualifier=None,
                   change=None, agent='"><script>alert(4)</script>', time="&amp;", program=None,
                   evidence=Evidence(text, 0, len(text), (m0, m0 + 2), (v0, v0 + 3)), score=0.2)
    html = fazhi_ie.render(doc.with_annotations(facts=[*doc.facts, hostile]))
    assert len(scripts_of(html)) == 1 and html.count("<script") == 1 and "alert(" not in html_view._SCRIPT
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(3)&quot;&gt;" in html
    assert "&amp;amp;" in html and "\x00" not in html and "\u2400" in html  # NUL shown as ␀


def test_facts_table_marks_low_scores_duplicates_and_new_columns(review_doc):
    html = fazhi_ie.render(review_doc)
    rows = re.findall(r'<tr class="(fact[^"]*)" id="f-(\d+)"([^>]*)>', html)
    assert len(rows) == len(review_doc.facts)
    for (classes, i, attrs), fact in zip(rows, review_doc.facts):
        assert ("low" in classes.split()) == (fact.score < 0.5), i
        assert ("dup" in classes.split()) == (fact.duplicate_of is not None), i
        assert f'data-score="{fact.score}"' in attrs and f'data-target="v-{fact.evidence.value_span[0]}"' in attrs
    assert 'dup</span> <a href="#f-3">of #3</a>' in html and 'dup</span> <a href="#f-4">of #4</a>' in html
    assert ">三个</td>" in html and ">2023</td>" in html  # previous value and period columns
    n_low = sum(f.score < 0.5 for f in review_doc.facts)
    assert f"{n_low} with score below 0.5 (marked low)" in html and "2 duplicates" in html
    # the review tools are hidden until the script shows them; the table is not in a scroll box
    assert '<div class="tools" id="fact-tools" hidden>' in html and '<tr class="filters" hidden>' in html
    assert re.search(r'<h2>Facts</h2>\s*<div class="tools"', html) and '"scroll">\n<table id="facts"' not in html
    below_07 = sum(f.score < 0.7 for f in review_doc.facts)
    assert fazhi_ie.render(review_doc, low_score=0.7).count('<tr class="fact low') == below_07 > n_low
    assert '<tr class="fact low' not in fazhi_ie.render(review_doc, low_score=0.0)
    with pytest.raises(ValueError, match="low_score must be between 0 and 1"):
        fazhi_ie.render(review_doc, low_score=50)


def test_numbers_are_shown_without_exponent():
    assert [html_view._number(x) for x in (1234567.0, 12.5, 0.25, None, 3e15)] == ["1234567", "12.5", "0.25", "",
                                                                                   "3e+15"]


# --- in headless Chromium -----------------------------------------------------------------------
def chromium_paths() -> tuple[str | None, str | None]:
    return shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")


def start_chromium(javascript: bool = True):
    """A headless Chromium session (Debian chromium + chromium-driver); skips with the reason when absent."""
    browser, driver_path = chromium_paths()
    if not (browser and driver_path):
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium and chromium-driver (.ci/run installs them)")
        pytest.skip("chromium / chromedriver not installed (apt-get install chromium chromium-driver fonts-noto-cjk)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1400"):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(options=options, service=Service(driver_path))


@pytest.fixture(scope="module")
def chromium():
    session = start_chromium()
    yield session
    session.quit()


def save_artefact(session, tmp_path: Path, name: str) -> Path:
    """A screenshot in the test's folder, copied to $FAZHI_IE_TEST_ARTEFACTS when set; checked to be a PNG."""
    shot = tmp_path / name
    assert session.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000, f"{shot}: not a PNG with something on it"
    out = os.environ.get("FAZHI_IE_TEST_ARTEFACTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(out) / name)
    return shot


def visible_rows(session) -> list:
    return [row for row in session.find_elements("css selector", "#facts tbody tr.fact") if row.is_displayed()]


def count_text(session) -> str:
    return session.find_element("id", "fact-count").text


def test_html_view_in_headless_chromium(tmp_path, chromium):
    """A gold report rendered by the command line: every fact in a full-height table, each linked to the text."""
    report = fazhi_ie.read_jsonl(ROOT / "data" / "annotations" / "reports.jsonl")[1]
    assert main(["render", str(ROOT / "data" / "annotations" / "reports.jsonl"), "--doc", report.id,
                 "-o", str(tmp_path / "view.html")]) == 0
    chromium.get((tmp_path / "view.html").as_uri())
    assert "金塔县" in chromium.find_element("tag name", "h1").text
    facts = chromium.find_elements("css selector", "#facts tr.fact")
    marks = chromium.find_elements("css selector", "mark.ent-VALUE")
    assert len(facts) >= 50 and len(marks) >= len(facts)
    assert count_text(chromium) == f"{len(facts)} of {len(facts)} facts shown"
    # full height: the table is not inside a scroll box, and it is taller than a screen
    assert chromium.execute_script("""const t = document.getElementById('facts');
        for (let p = t.parentElement; p !== document.body; p = p.parentElement)
            if (getComputedStyle(p).overflowY !== 'visible') return false;
        return t.getBoundingClientRect().height > window.innerHeight;""")
    target = facts[0].find_element("css selector", "a").get_attribute("href").split("#")[1]
    assert chromium.find_element("id", target)  # the fact's place in the text exists
    save_artefact(chromium, tmp_path, "view.png")


def test_review_tools_in_headless_chromium(tmp_path, chromium, review_doc):
    """Sort by number, search, per-column filter, score threshold, duplicates, and a click to the evidence."""
    from selenium.webdriver.common.keys import Keys

    doc = review_doc
    html_view.write_html(doc, tmp_path / "review.html")
    chromium.get((tmp_path / "review.html").as_uri())
    n = len(doc.facts)
    assert chromium.find_element("id", "fact-tools").is_displayed() and len(visible_rows(chromium)) == n
    assert count_text(chromium) == f"{n} of {n} facts shown"

    # sort by number: ascending, empty cells last; a second click reverses
    number_head = chromium.find_element("xpath", "//table[@id='facts']//tr[@class='heads']/th[.='number']")
    column = [h.text.split()[0] for h in chromium.find_elements("css selector", "#facts tr.heads th")].index("number")

    def numbers() -> list[float | None]:
        keys = chromium.execute_script(f"""return Array.from(document.querySelectorAll('#facts tbody tr.fact'))
            .filter(r => !r.hidden).map(r => r.cells[{column}].getAttribute('data-sort'));""")
        return [float(k) if k else None for k in keys]

    number_head.click()
    got = numbers()
    known = [x for x in got if x is not None]
    assert known == sorted(known) and got == known + [None] * (len(got) - len(known)) and known[0] < known[-1]
    assert number_head.get_attribute("aria-sort") == "ascending"
    number_head.click()
    known = [x for x in numbers() if x is not None]
    assert known == sorted(known, reverse=True) and number_head.get_attribute("aria-sort") == "descending"
    assert numbers()[0] == max(f.number for f in doc.facts if f.number is not None)

    # search across columns
    term = "行政复议"
    expected = sum(term in shown_text(f) for f in doc.facts)
    assert 0 < expected < n
    search = chromium.find_element("id", "fact-search")
    search.send_keys(term)
    assert len(visible_rows(chromium)) == expected and count_text(chromium) == f"{expected} of {n} facts shown"
    search.clear()
    search.send_keys(Keys.SPACE + Keys.BACK_SPACE)  # clear() sends no input event
    assert len(visible_rows(chromium)) == n

    # a filter on one column: numbers of at least 100
    number_filter = chromium.find_element("css selector", f"#facts tr.filters input[data-col='{column}']")
    number_filter.send_keys(">= 100")
    assert len(visible_rows(chromium)) == sum(f.number is not None and f.number >= 100 for f in doc.facts) > 0
    number_filter.send_keys(Keys.BACK_SPACE * 6)
    assert len(visible_rows(chromium)) == n

    # score threshold: 10 steps of 0.05 hide the facts scored below 0.5, or grey them out
    slider = chromium.find_element("id", "min-score")
    slider.send_keys(Keys.RIGHT * 10)
    assert slider.get_attribute("value") == "0.5"
    kept = sum(f.score >= 0.5 for f in doc.facts)
    assert kept < n and len(visible_rows(chromium)) == kept and count_text(chromium) == f"{kept} of {n} facts shown"
    assert all(float(r.get_attribute("data-score")) >= 0.5 for r in visible_rows(chromium))
    chromium.find_element("id", "grey-below").click()
    assert len(visible_rows(chromium)) == n
    assert count_text(chromium) == f"{n} of {n} facts shown ({n - kept} greyed: score below 0.50)"
    greyed = chromium.find_elements("css selector", "#facts tr.fact.below")
    assert len(greyed) == n - kept and float(greyed[0].value_of_css_property("opacity")) < 1

    # duplicates marked, and hidden on request
    dups = chromium.find_elements("css selector", "#facts tr.fact.dup")
    assert len(dups) == 2 and "dup of #3" in dups[0].text + dups[1].text
    chromium.find_element("id", "hide-dups").click()
    assert len(visible_rows(chromium)) == n - 2
    chromium.find_element("id", "fact-reset").click()
    chromium.execute_script("window.scrollTo(0, 0)")
    save_artefact(chromium, tmp_path, "review-table.png")  # unsorted, unfiltered: low scores and marks visible

    # click a row (not its link): the URL names the value, which is the highlighted :target
    fact = doc.facts[4]
    start = fact.evidence.value_span[0]
    row = chromium.find_element("id", "f-5")
    row.find_elements("tag name", "td")[2].click()  # the metric cell
    assert chromium.current_url.endswith(f"#v-{start}")
    target = chromium.execute_script("return document.querySelector(':target')")
    assert target.get_attribute("id") == f"v-{start}" and target.text == fact.value
    assert target.value_of_css_property("outline-style") == "solid"
    assert "current" in row.get_attribute("class")
    assert chromium.execute_script("const r = arguments[0].getBoundingClientRect(); "
                                   "return r.top >= 0 && r.bottom <= window.innerHeight;", target)
    metric = chromium.find_elements("css selector", "mark.metric-hl")
    assert [m.get_attribute("id") for m in metric] == [f"e-{fact.metric_id}"]
    assert chromium.find_element("id", "back").get_attribute("href").endswith("#f-5")
    save_artefact(chromium, tmp_path, "review-evidence.png")


def test_hostile_text_runs_no_script_in_chromium(tmp_path, chromium):
    text = "<script>window.pwned = 1</script>\n<img src=x onerror='window.pwned = 2'>\x00\n" + TEXT_A
    doc = fazhi_ie.load(engine="rules")(text, doc_id="hostile")
    assert doc.facts
    html_view.write_html(doc, tmp_path / "hostile.html")
    chromium.get((tmp_path / "hostile.html").as_uri())
    assert chromium.execute_script("return window.pwned === undefined")
    assert "<script>window.pwned = 1</script>" in chromium.find_element("id", "text").text
    assert "\u2400" in chromium.find_element("id", "text").text  # the NUL, shown as ␀
    n = len(doc.facts)
    assert count_text(chromium) == f"{n} of {n} facts shown"  # the page's own script did run


def test_page_reads_without_javascript(tmp_path, review_doc):
    html_view.write_html(review_doc, tmp_path / "plain.html")
    session = start_chromium(javascript=False)
    try:
        session.get((tmp_path / "plain.html").as_uri())
        assert not session.find_element("id", "fact-tools").is_displayed()
        assert not session.find_element("css selector", "#facts tr.filters").is_displayed()
        assert len(visible_rows(session)) == len(review_doc.facts)
        assert count_text(session) == f"{len(review_doc.facts)} facts"
        start = review_doc.facts[0].evidence.value_span[0]
        session.find_element("css selector", "#f-1 a").click()  # plain links still lead to the value
        assert session.current_url.endswith(f"#v-{start}")
    finally:
        session.quit()
