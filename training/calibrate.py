"""Fit the model engine's score calibration on cross-validated held-out predictions.

The raw scores are over-confident (the model card, fazhi_ie/models/default/README.md). This fits, per kind (entities, relations), a
monotone map score' = sigmoid(a * logit(score) + b) by logistic regression on held-out predictions
(correct = exact match in the gold). The map is applied after every decision, so it changes what the
scores say and never what is predicted. The honest figure is the nested one: each report's scores
are mapped with [a, b] fitted on the other reports only.

    python training/calibrate.py --predictions training/results/decoding/nested/predictions.jsonl \\
        --out training/results/calibration [--apply fazhi_ie/models/default]

Writes OUT/calibration.json and OUT/reliability-before.png / reliability-after.png; `--apply`
writes the fit on all reports into MODEL_DIR/config.json (`score_calibration`).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from crossval import calibration_of_items, reliability_plot, scored_items  # noqa: E402

from fazhi_ie.io.jsonl import read_jsonl  # noqa: E402
from fazhi_ie.neural.config import SCORE_KINDS, ModelConfig  # noqa: E402

GOLD_FILE = HERE.parent / "data" / "annotations" / "reports.jsonl"


def logit(scores: np.ndarray) -> np.ndarray:
    p = np.clip(scores, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_platt(pairs: list[tuple[float, bool]], l2: float = 1e-3, steps: int = 100) -> list[float]:
    """[a, b] minimising the log loss of sigmoid(a * logit(score) + b): damped Newton steps, a little L2."""
    if not pairs:
        return [1.0, 0.0]
    x = logit(np.array([s for s, _ in pairs], dtype=np.float64))
    y = np.array([c for _, c in pairs], dtype=np.float64)
    design = np.stack([x, np.ones_like(x)], axis=1)

    def loss(w: np.ndarray) -> float:
        z = design @ w
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * l2 * w @ w)

    w = np.array([1.0, 0.0])
    current = loss(w)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(design @ w, -30, 30)))
        grad = design.T @ (p - y) + l2 * w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + l2 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-4 and loss(w - scale * step) > current:
            scale /= 2
        if scale <= 1e-4:
            break
        w = w - scale * step
        new = loss(w)
        if current - new < 1e-10:
            current = new
            break
        current = new
    return [round(float(w[0]), 5), round(float(w[1]), 5)]


def apply(pairs: list[tuple[float, bool]], ab: list[float]) -> list[tuple[float, bool]]:
    """Map the scores of (score, correct) pairs as the engine would with [a, b]."""
    config = ModelConfig(vocab_size=1, score_calibration={"entities": ab})
    return [(config.calibrated("entities", s), c) for s, c in pairs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--predictions", required=True, help="pooled held-out predictions of uncalibrated fold models")
    ap.add_argument("--gold", default=str(GOLD_FILE))
    ap.add_argument("--out", required=True)
    ap.add_argument("--apply", metavar="MODEL_DIR", help="write the fit on all documents into this model's config.json")
    args = ap.parse_args()
    gold = read_jsonl(args.gold)
    preds = read_jsonl(args.predictions)
    gold_ids = {d.id for d in gold}
    if not preds or any(p.id not in gold_ids for p in preds):
        raise SystemExit(f"{args.predictions}: every prediction must be a document of {args.gold}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    per_doc = {p.id: scored_items(gold, [p]) for p in preds}
    pooled = {k: [x for d in per_doc.values() for x in d[k]] for k in SCORE_KINDS}
    fit_all = {k: fit_platt(pooled[k]) for k in SCORE_KINDS}
    nested_items: dict[str, list[tuple[float, bool]]] = {k: [] for k in SCORE_KINDS}
    nested_fits = {}
    for doc_id, items in per_doc.items():
        others = {k: [x for d, its in per_doc.items() if d != doc_id for x in its[k]] for k in SCORE_KINDS}
        fits = {k: fit_platt(others[k]) for k in SCORE_KINDS}
        nested_fits[doc_id] = fits
        for k in SCORE_KINDS:
            nested_items[k] += apply(items[k], fits[k])
    before = calibration_of_items(pooled)
    after = calibration_of_items(nested_items)
    in_sample = calibration_of_items({k: apply(pooled[k], fit_all[k]) for k in SCORE_KINDS})
    reliability_plot(before, out / "reliability-before.png", "raw scores (held-out)")
    reliability_plot(after, out / "reliability-after.png", "calibrated scores (nested: fitted on the other reports)")
    result = {"predictions": args.predictions, "fit_on_all": fit_all, "nested_fits": nested_fits,
              "ece": {k: {"raw": before[k]["ece"], "calibrated_nested": after[k]["ece"],
                          "calibrated_in_sample": in_sample[k]["ece"], "n": before[k]["n"]} for k in SCORE_KINDS},
              "bins": {"raw": before, "calibrated_nested": after},
              "command": "training/calibrate.py " + " ".join(sys.argv[1:])}
    (out / "calibration.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    for k in SCORE_KINDS:
        e = result["ece"][k]
        print(f"{k}: n={e['n']} ECE raw {e['raw']:.3f} -> nested {e['calibrated_nested']:.3f} "
              f"(in-sample {e['calibrated_in_sample']:.3f}); fit on all {fit_all[k]}")
    if args.apply:
        path = Path(args.apply) / "config.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data["score_calibration"] = fit_all
        ModelConfig.from_dict(data, source=str(path))
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote score_calibration into {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
