"""Fact tables: one row per fact across many documents, as a pandas DataFrame.

pandas, pyarrow and datasets are imported inside the functions, never at `import fazhi_ie`.
Every row keeps its document id, sentence and offsets, so each number can be traced back
to its place in the text: ``doc.text[value_start:value_end] == value``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .canon import MetricCanonicalizer, default_canonicalizer
from .document import Document
from .facts import document_defaults

if TYPE_CHECKING:  # pragma: no cover
    import pandas

#: Columns of a facts table, in order, with their pandas dtypes.
FACT_TABLE_COLUMNS: dict[str, str] = {
    "doc_id": "string", "region": "string", "year": "Int64",
    "metric": "string", "value": "string", "number": "float64", "unit": "string", "qualifier": "string",
    "change": "string", "agent": "string", "time": "string", "program": "string",
    "canonical_metric": "string", "canonical_rule": "string", "canonical_score": "float64",
    "metric_score": "float64", "value_score": "float64", "relation_score": "float64",
    "sentence": "string", "sentence_start": "Int64", "sentence_end": "Int64",
    "metric_start": "Int64", "metric_end": "Int64", "value_start": "Int64", "value_end": "Int64",
    "engine": "string",
}
TABLE_FORMATS = ("csv", "parquet", "jsonl")


def _report_year(value) -> int | None:
    try:
        return int(str(value)[:4]) if value is not None else None
    except ValueError:
        return None


def fact_records(docs: Iterable[Document], canonicalizer: MetricCanonicalizer | None = None) -> list[dict]:
    """The rows of `facts_table` as plain dicts (no pandas needed)."""
    from .rules.gazetteer import default_named_regions

    canon = canonicalizer or default_canonicalizer()
    rows: list[dict] = []
    pending: list[tuple[dict, str]] = []
    for doc in docs:
        defaults = document_defaults(doc.text, doc.meta, list(default_named_regions()))
        heads = {(e.start, e.end): e for e in doc.entities if e.label != "VALUE"}
        values = {(e.start, e.end): e for e in doc.entities if e.label == "VALUE"}
        by_id = doc.entities_by_id()
        rel_scores = {(by_id[r.head].start, by_id[r.tail].start): r.score
                      for r in doc.relations if r.label == "HAS_VALUE" and r.head in by_id and r.tail in by_id}
        for fact in doc.facts:
            ev = fact.evidence
            (m0, m1), (v0, v1) = ev.metric_span, ev.value_span
            head, value = heads.get((m0, m1)), values.get((v0, v1))
            row = {
                "doc_id": doc.id, "region": defaults.agent, "year": _report_year(defaults.time),
                "metric": fact.metric, "value": fact.value, "number": fact.number, "unit": fact.unit,
                "qualifier": fact.qualifier, "change": fact.change, "agent": fact.agent, "time": fact.time,
                "program": fact.program,
                "metric_score": head.score if head else None, "value_score": value.score if value else None,
                "relation_score": rel_scores.get((m0, v0)),
                # The sentence is cut from the document text by its offsets, not copied from evidence.
                "sentence": doc.text[ev.sentence_start:ev.sentence_end],
                "sentence_start": ev.sentence_start, "sentence_end": ev.sentence_end,
                "metric_start": m0, "metric_end": m1, "value_start": v0, "value_end": v1,
                "engine": doc.meta.get("engine"),
            }
            rows.append(row)
            pending.append((row, fact.metric))
    canonical = canon.canonicalize_all(metric for _, metric in pending)
    for row, metric in pending:
        c = canonical[metric]
        row["canonical_metric"], row["canonical_rule"], row["canonical_score"] = c.key, c.rule, c.score
    return [{col: row.get(col) for col in FACT_TABLE_COLUMNS} for row in rows]


def _typed(frame: "pandas.DataFrame") -> "pandas.DataFrame":
    import pandas as pd

    for col, dtype in FACT_TABLE_COLUMNS.items():
        if col not in frame.columns:
            frame[col] = pd.Series([None] * len(frame), dtype=dtype)
        elif dtype == "string":
            frame[col] = frame[col].astype("object").where(frame[col].notna(), None).astype("string")
        else:
            frame[col] = pd.to_numeric(frame[col], errors="raise").astype(dtype)
    return frame[list(FACT_TABLE_COLUMNS)]


def facts_table(docs: Iterable[Document], *, canonicalizer: MetricCanonicalizer | None = None) -> "pandas.DataFrame":
    """One row per fact of `docs`: the SCHEMA fact fields, the document id, the report's region
    and year, the sentence and all offsets, the canonical metric (key, rule, score) and the
    engine's scores. Column order and dtypes are `FACT_TABLE_COLUMNS`; missing values are <NA>.
    """
    import pandas as pd

    return _typed(pd.DataFrame(fact_records(docs, canonicalizer), columns=list(FACT_TABLE_COLUMNS)))


def table_format(path: str | Path, fmt: str | None = None) -> str:
    """`fmt`, or the format named by the suffix of `path`; ValueError listing the valid ones."""
    if fmt is None:
        fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"{path}: unknown table format {fmt!r}; valid: {', '.join(TABLE_FORMATS)} "
                         "(by file suffix .csv, .parquet or .jsonl)")
    return fmt


def write_table(frame: "pandas.DataFrame", path: str | Path, fmt: str | None = None) -> str:
    """Write a facts table as CSV (UTF-8, quoted as needed), Parquet or JSON Lines, chosen
    by `fmt` or the file suffix; return the format used."""
    fmt = table_format(path, fmt)
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return fmt


def read_table(path: str | Path, fmt: str | None = None) -> "pandas.DataFrame":
    """Read a table written by `write_table` back with the facts-table dtypes (CSV keeps no
    difference between an empty string and a missing value: both come back as <NA>)."""
    import pandas as pd

    fmt = table_format(path, fmt)
    if fmt == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    elif fmt == "parquet":
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_json(path, orient="records", lines=True, dtype=False)
    return _typed(frame)


def to_dataset(frame: "pandas.DataFrame"):
    """The table as a Hugging Face `datasets.Dataset` (one example per fact)."""
    import datasets

    return datasets.Dataset.from_pandas(frame, preserve_index=False)


def compare_table(frame: "pandas.DataFrame", *, min_reports: int = 1, by: str = "doc_id") -> "pandas.DataFrame":
    """Canonical metric × report: each cell lists that report's values of the indicator
    ("93件; 75件"), so one indicator can be read side by side across reports.

    Rows are indicators found in at least `min_reports` reports, most widely reported first.
    """
    import pandas as pd

    if frame.empty:
        return pd.DataFrame()
    cells = (frame.assign(_v=frame["value"].astype(str))
             .groupby(["canonical_metric", by], sort=False)["_v"]
             .agg(lambda values: "; ".join(dict.fromkeys(values))))
    pivot = cells.unstack(by)
    reports = [r for r in dict.fromkeys(frame[by]) if r in pivot.columns]
    pivot = pivot[reports]
    counts = pivot.notna().sum(axis=1)
    pivot = pivot[counts >= min_reports]
    order = sorted(pivot.index, key=lambda k: (-int(counts[k]), str(k)))
    return pivot.loc[order].fillna("")
