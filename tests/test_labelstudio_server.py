"""The annotation loop against a real Label Studio server (slow tier: `pytest --runslow`).

Starts `label-studio start` on a free port of 127.0.0.1 with a temporary data directory and a
known user and API token, then, through label-studio-sdk: creates a project with the labelling
config `fazhi-ie preannotate` wrote, imports its tasks, annotates as an annotator would (one
prediction accepted with a span changed, one accepted as it is, one left alone), exports, and
brings the export back with `fazhi-ie convert`. A second test opens the task in Label Studio's
own editor (headless Chromium) to check where it draws the predicted spans and at which offsets
it saves a span selected after an emoji: that is what decides how offsets are counted.

Needs label-studio-sdk in this environment and the `label-studio` command beside this Python,
on PATH, or named by $FAZHI_IE_LABEL_STUDIO (Label Studio may live in its own virtual
environment); skipped otherwise. Nothing leaves the machine: the server listens on 127.0.0.1
only, and its version check, error reporting and analytics are switched off. One way, which
leaves the project's environment as it is (both packages pin numpy lower):

    python -m venv --system-site-packages build/annotation-venv
    build/annotation-venv/bin/pip install -c constraints.txt label-studio label-studio-sdk
    build/annotation-venv/bin/pip install --ignore-installed --no-deps attrs   # see below
    build/annotation-venv/bin/python -m pytest --runslow tests/test_labelstudio_server.py

(label-studio depends on a package called `attr`, whose attr.py in the venv would hide the
`attr` package of the attrs installed outside it; attrs inside the venv wins again.)
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
sdk = pytest.importorskip("label_studio_sdk")

from fazhi_ie.cli import main  # noqa: E402
from fazhi_ie.io.jsonl import read_jsonl  # noqa: E402
from fazhi_ie.schema import ENTITY_LABELS, validate_record  # noqa: E402

USER, PASSWORD, TOKEN = "annotator@example.com", "fazhi-ie-test-password", "fazhi-ie-test-token-0123456789"
STARTUP_LIMIT_S = 300  # the first start migrates a new database: about 70 s on two busy cores
# 𠀀 (U+20000) and 😀 lie outside the BMP: one code point, two UTF-16 units each
REPORTS = {
    "a": "2023年,兰州市城关区司法局聘请4名法律顾问。𠀀今年来,全区受理行政复议案件93件,目前已审结😀75件。\n",
    "b": "2022年，城关区😀受理行政复议案件93件，纠错率18.67%。\n",
    "c": "2023年,兰州市城关区司法局聘请4名法律顾问。\n",
}


@dataclass
class Server:
    url: str
    client: object
    log: Path


def label_studio_command() -> str | None:
    named = os.environ.get("FAZHI_IE_LABEL_STUDIO")
    if named:
        return named
    beside = Path(sys.executable).with_name("label-studio")
    return str(beside) if beside.is_file() else shutil.which("label-studio")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> float:
    """Seconds until GET /health answers 200; fails with the log's tail if the server dies or takes too long."""
    start = time.monotonic()
    while time.monotonic() - start < STARTUP_LIMIT_S:
        if process.poll() is not None:
            pytest.fail(f"label-studio exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(2)
    pytest.fail(f"label-studio did not answer within {STARTUP_LIMIT_S} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """End the server's process group (started here, in a session of its own)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    command = label_studio_command()
    if command is None:
        pytest.skip("no label-studio command (install label-studio, or set $FAZHI_IE_LABEL_STUDIO)")
    data_dir = tmp_path_factory.mktemp("label-studio-data")
    log = data_dir / "server.log"
    port = free_port()
    env = {**os.environ,
           "LABEL_STUDIO_USERNAME": USER, "LABEL_STUDIO_PASSWORD": PASSWORD, "LABEL_STUDIO_USER_TOKEN": TOKEN,
           "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true", "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
           "DJANGO_DB": "sqlite", "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
           # nothing beyond 127.0.0.1: no version check, error reports, analytics or remote feature flags
           "LABEL_STUDIO_LATEST_VERSION_CHECK": "false", "LABEL_STUDIO_SENTRY_DSN": "",
           "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "", "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
           "LABEL_STUDIO_FEATURE_FLAGS_OFFLINE": "true", "NO_PROXY": "127.0.0.1,localhost"}
    with open(log, "wb") as out:
        process = subprocess.Popen([command, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
                                    "--enable-legacy-api-token"], env=env, cwd=data_dir, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        seconds = wait_until_up(url, process, log)
        print(f"label-studio up in {seconds:.0f} s on {url}")
        yield Server(url, sdk.LabelStudio(base_url=url, api_key=TOKEN), log)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory) -> tuple[list[dict], str]:
    """`fazhi-ie preannotate` (rule engine) on the three reports: the tasks and the labelling config."""
    folder = tmp_path_factory.mktemp("reports")
    for name, text in REPORTS.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    out = folder / "tasks.json"
    assert main(["preannotate", str(folder), "-o", str(out), "--engine", "rules"]) == 0
    return (json.loads(out.read_text(encoding="utf-8")),
            (folder / "tasks.labelconfig.xml").read_text(encoding="utf-8"))


def new_project(server: Server, config: str, tasks: list[dict], title: str) -> tuple[int, dict[str, object]]:
    """A project with `config`, `tasks` imported; its tasks by document id."""
    client = server.client
    project = client.projects.create(title=title, label_config=config)
    parsed = client.projects.get(id=project.id).parsed_label_config
    assert parsed["label"]["labels"] == list(ENTITY_LABELS), "Label Studio read every schema label from the config"
    imported = client.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True)
    assert (imported.task_count, imported.prediction_count, imported.annotation_count) == (len(tasks), len(tasks), 0), \
        "predictions import as suggestions, not as finished annotations"
    listed = {t.data["doc_id"]: t for t in client.tasks.list(project=project.id, fields="all")}
    assert all(t.total_annotations == 0 and t.total_predictions == 1 for t in listed.values())
    return project.id, listed


def export(server: Server, project_id: int, path: Path, **options) -> list[dict]:
    data = b"".join(server.client.projects.exports.download_sync(project_id, export_type="JSON", **options))
    path.write_bytes(data)
    return json.loads(data)


def convert(path: Path, out: Path, capsys) -> tuple[int, str]:
    code = main(["convert", str(path), str(out), "--from", "labelstudio", "--to", "jsonl"])
    return code, capsys.readouterr().err


def test_round_trip_through_label_studio(server, tasks, tmp_path, capsys):
    task_list, config = tasks
    project_id, listed = new_project(server, config, task_list, "fazhi-ie annotation loop")
    client = server.client

    # a: the annotator accepts the prediction but cuts one span differently (it lies after 𠀀)
    prediction = listed["a"].predictions[0]
    result = copy.deepcopy(prediction.result)
    metric = next(r for r in result if r["type"] == "labels" and r["value"]["text"] == "受理行政复议案件")
    metric["value"].update(start=metric["value"]["start"] + 2, text="行政复议案件")
    client.annotations.create(id=listed["a"].id, result=result, was_cancelled=False, ground_truth=False,
                              parent_prediction=prediction.id, lead_time=12.5)
    # b: accepted as it is (its spans after 😀 included); c: never opened
    prediction = listed["b"].predictions[0]
    client.annotations.create(id=listed["b"].id, result=copy.deepcopy(prediction.result), was_cancelled=False,
                              parent_prediction=prediction.id)

    exported = export(server, project_id, tmp_path / "export.json")
    assert sorted(t["data"]["doc_id"] for t in exported) == ["a", "b"]  # only annotated tasks, by default
    assert all(t["annotations"] and t["predictions"] for t in exported)
    code, err = convert(tmp_path / "export.json", tmp_path / "mine.jsonl", capsys)
    assert code == 0, err
    docs = {d.id: d for d in read_jsonl(tmp_path / "mine.jsonl", require_value_heads=False)}
    assert sorted(docs) == ["a", "b"]
    for doc in docs.values():
        assert validate_record(doc.to_dict()) == [], doc.id
        assert doc.text == REPORTS[doc.id]
        assert all(doc.text[e.start:e.end] == e.text for e in doc.entities)
    a, b = docs["a"], docs["b"]
    changed = a.entity(metric["id"])
    assert (changed.start, changed.end, changed.text) == (REPORTS["a"].index("行政复议案件"), REPORTS["a"].index("93件"),
                                                          "行政复议案件")
    assert [(e.label, e.text) for e in a.entities if e.start > REPORTS["a"].index("𠀀")][:3] == \
           [("TIME", "今年来"), ("REGION", "全区"), ("METRIC", "行政复议案件")]
    value = next(e for e in a.entities if e.text == "93件")
    assert value.start == REPORTS["a"].index("93件")
    after_emoji = {e.text: e.start for e in b.entities if e.start > REPORTS["b"].index("😀")}
    assert after_emoji.get("纠错率") == REPORTS["b"].index("纠错率")
    assert after_emoji.get("18.67%") == REPORTS["b"].index("18.67%")
    predicted_b = [r for r in listed["b"].predictions[0].result if r["type"] == "relation"]
    assert len(b.relations) == len(predicted_b)

    # an export of every task holds c, which has the engine's prediction and no human annotation: refused by name
    everything = export(server, project_id, tmp_path / "all.json", download_all_tasks=True)
    c_id = next(t["id"] for t in everything if t["data"]["doc_id"] == "c")
    code, err = convert(tmp_path / "all.json", tmp_path / "all.jsonl", capsys)
    assert code == 1 and f"all.json: task {c_id} (document c): it has only predictions" in err, err


def test_label_studio_editor_counts_code_points(server, tasks, tmp_path, capsys):
    """Label Studio's editor draws the predicted spans over the right characters, and saves a span that an
    annotator selects after 𠀀 and 😀 at code-point offsets, which `convert` reads back."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    browser, driver_path = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (browser and driver_path):
        pytest.skip("needs chromium and chromedriver (Debian: chromium, chromium-driver)")
    task_list, config = tasks
    task = next(t for t in task_list if t["data"]["doc_id"] == "a")
    project_id, listed = new_project(server, config, [task], "fazhi-ie editor offsets")
    predicted = [r["value"]["text"] for r in task["predictions"][0]["result"] if r["type"] == "labels"]

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.get(server.url + "/user/login/")
        driver.find_element(By.NAME, "email").send_keys(USER)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
        deadline = time.monotonic() + 30
        while "/user/login" in driver.current_url and time.monotonic() < deadline:
            time.sleep(0.5)
        driver.get(f"{server.url}/projects/{project_id}/data?task={listed['a'].id}")
        highlights = "return Array.from(document.querySelectorAll('span.htx-highlight')).map(s => s.textContent)"
        deadline = time.monotonic() + 60
        while not driver.execute_script(highlights) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert driver.execute_script(highlights) == predicted, "the editor draws each prediction over its own text"

        next(e for e in driver.find_elements(By.CSS_SELECTOR, ".lsf-label") if e.text.startswith("METRIC")).click()
        selected = driver.execute_script("""
            const walker = document.createTreeWalker(document.querySelector('.lsf-richtext__container'),
                                                     NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              const i = node.textContent.indexOf('审结');
              if (i < 0) continue;
              const range = document.createRange();
              range.setStart(node, i); range.setEnd(node, i + 2);
              const selection = window.getSelection();
              selection.removeAllRanges(); selection.addRange(range);
              const box = range.getBoundingClientRect();
              node.parentElement.dispatchEvent(new MouseEvent('mouseup', {bubbles: true, clientX: box.right,
                                                                          clientY: box.bottom - 2}));
              return true;
            }
            return false;""")
        assert selected
        deadline = time.monotonic() + 10
        while "审结" not in driver.execute_script(highlights) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "审结" in driver.execute_script(highlights)
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Submit").click()
        deadline = time.monotonic() + 30
        while not server.client.annotations.list(id=listed["a"].id) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        driver.quit()

    (annotation,) = server.client.annotations.list(id=listed["a"].id)
    manual = next(r["value"] for r in annotation.result if r["type"] == "labels" and r["value"]["text"] == "审结")
    text = REPORTS["a"]
    assert (manual["start"], manual["end"]) == (text.index("审结"), text.index("审结") + 2), \
        "Label Studio saved the span at code-point offsets (UTF-16 would be two further on)"
    export(server, project_id, tmp_path / "editor.json")
    code, err = convert(tmp_path / "editor.json", tmp_path / "editor.jsonl", capsys)
    assert code == 0, err
    (doc,) = read_jsonl(tmp_path / "editor.jsonl", require_value_heads=False)
    assert [(e.label, e.start) for e in doc.entities if e.text == "审结"] == [("METRIC", text.index("审结"))]
    assert [e.text for e in doc.entities if e.text != "审结"] == predicted
