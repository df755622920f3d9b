"""Fact tables: one row per fact across many documents, as a pandas DataFrame.

pandas, pyarrow and datasets are imported inside the functions, never at `import fazhi_ie`.
Every row keeps its document id, sentence and offsets, so each number can be traced back
to its place in the text: ``doc.text[value_start:value_end] == value``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .metric_keys import MetricCanonicalizer, default_canonicalizer
from ..document import Document
from ..io.rows import ROW_FIELDS, fact_rows

if TYPE_CHECKING:  # pragma: no cover
    import pandas

#: Columns of a facts table, in order, with their pandas dtypes: the fact row (io/rows.py)
#: with the canonical metric after `program`.
_DTYPES = {"year": "Int64", "number": "float64", "previous_number": "float64", "metric_score": "float64", "value_score": "float64",
           "relation_score": "float64", "canonical_score": "float64", "sentence_start": "Int64",
           "sentence_end": "Int64", "metric_start": "Int64", "metric_end": "Int64", "value_start": "Int64",
           "value_end": "Int64"}
_COLUMNS = (ROW_FIELDS[:ROW_FIELDS.index("program") + 1] + ("canonical_metric", "canonical_rule", "canonical_score")
            + ROW_FIELDS[ROW_FIELDS.index("program") + 1:])
FACT_TABLE_COLUMNS: dict[str, str] = {col: _DTYPES.get(col, "string") for col in _COLUMNS}
TABLE_FORMATS = ("csv", "parquet", "jsonl")


def fact_records(docs: Iterable[Document], canonicalizer: MetricCanonicalizer | None = None, *,
                 include_duplicates: bool = False) -> list[dict]:
    """The rows of `facts_table` as plain dicts (no pandas needed): the fact rows of
    `fazhi_ie.io.rows` with each metric's canonical key, rule and score.

    Facts from a block the page repeats (`duplicate_of` set) are left out unless `include_duplicates`,
    with a warning that says how many, so that sums do not count them twice."""
    canon = canonicalizer or default_canonicalizer()
    rows = list(fact_rows(docs))
    duplicates = sum(1 for row in rows if row["duplicate_of"])
    if duplicates and not include_duplicates:
        import warnings

        rows = [row for row in rows if not row["duplicate_of"]]
        warnings.warn(f"{duplicates} fact(s) from text the page repeats verbatim were left out (they duplicate "
                      "facts of the original block); pass include_duplicates=True (--duplicates) to keep them",
                      DuplicateFactsLeftOut, stacklevel=3)
    canonical = canon.canonicalize_all(row["metric"] for row in rows)
    for row in rows:
        c = canonical[row["metric"]]
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


class DuplicateFactsLeftOut(UserWarning):
    """Facts from repeated text were left out of a table."""


def facts_table(docs: Iterable[Document], *, canonicalizer: MetricCanonicalizer | None = None,
                include_duplicates: bool = False) -> "pandas.DataFrame":
    """One row per fact of `docs`: the SCHEMA fact fields, the document id, the report's region
    and year, the sentence and all offsets, the canonical metric (key, rule, score) and the
    engine's scores. Column order and dtypes are `FACT_TABLE_COLUMNS`; missing values are <NA>.
    """
    import pandas as pd

    return _typed(pd.DataFrame(fact_records(docs, canonicalizer, include_duplicates=include_duplicates),
                               columns=list(FACT_TABLE_COLUMNS)))


def format_by_suffix(path: str | Path, fmt: str | None, valid: tuple[str, ...], what: str) -> str:
    """`fmt`, or the format the suffix of `path` names; ValueError listing the valid ones."""
    if fmt is None:
        fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in valid:
        raise ValueError(f"{path}: unknown {what} format {fmt!r}; valid: {', '.join(valid)} "
                         f"(by file suffix {', '.join('.' + v for v in valid)})")
    return fmt


def table_format(path: str | Path, fmt: str | None = None) -> str:
    """`fmt`, or the format named by the suffix of `path`; ValueError listing the valid ones."""
    return format_by_suffix(path, fmt, TABLE_FORMATS, "table")


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


#: the columns a file must have to be read as a facts table
REQUIRED_TABLE_COLUMNS = ("doc_id", "metric", "value", "canonical_metric")


def read_table(path: str | Path, fmt: str | None = None) -> "pandas.DataFrame":
    """Read a table written by `write_table` back with the facts-table dtypes (CSV keeps no
    difference between an empty string and a missing value: both come back as <NA>).

    Raises ValueError naming the file when it cannot be read or is not a facts table."""
    import pandas as pd

    fmt = table_format(path, fmt)
    try:
        if fmt == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
        elif fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_json(path, orient="records", lines=True, dtype=False)
    except (UnicodeDecodeError, ValueError, OSError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: cannot be read as a {fmt} facts table ({type(exc).__name__}: {exc})") from None
    missing = [c for c in REQUIRED_TABLE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: not a facts table written by `fazhi-ie facts` (missing columns: "
                         f"{', '.join(missing)})")
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
