"""Project wiring: the README's commands are the ones CI runs; the package imports cleanly."""
from __future__ import annotations

import shutil
import subprocess
import sys

from conftest import ROOT


def test_ci_runs_the_readme_test_command():
    ci_command = [l for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.startswith("pip install")][0]
    assert ci_command in (ROOT / "README.md").read_text(encoding="utf-8")


def test_import_has_no_side_effects():
    code = ("import logging, sys; import fazhi_ie, fazhi_ie.pipeline, fazhi_ie.cli; "
            "assert not logging.getLogger().handlers; "
            "assert 'torch' not in sys.modules and 'fazhi_ie.analysis.evaluation' not in sys.modules; "
            "assert not any(m.startswith('training') for m in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_constraints_pin_torch_and_hanlp():
    pins = (ROOT / "constraints.txt").read_text().split()
    assert "torch==2.13.0" in pins and "hanlp==2.1.5" in pins


def test_import_layers_hold():
    """The one-flow contract of setup.cfg ([importlinter]): no import cycle, no module importing a layer above it
    (e.g. the pipeline never imports evaluation or training code)."""
    lint = shutil.which("lint-imports")
    assert lint, "import-linter is a dev dependency: pip install -e '.[dev]'"
    result = subprocess.run([lint, "--config", str(ROOT / "setup.cfg")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "1 kept, 0 broken" in result.stdout, result.stdout[-2000:]
