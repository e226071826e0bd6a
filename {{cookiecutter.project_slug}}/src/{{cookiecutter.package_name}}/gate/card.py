"""The model card: what a model is for, what it was trained on, and how it did, on one page.

Built from facts the pipeline already wrote (the metrics record, the model's
metadata, the gate's thresholds, the model tests' results) plus the few words
only people can write (`config/model_card.yaml`: intended use, users, limits).
Pure: `build_card` returns blocks, rendered as Markdown (for reviewers and the
repository) and as self-contained HTML (served by the image at /model-card).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field

from ..config_files import FrozenModel, load_yaml
from ..errors import ConfigError
from ..layout import ModelMetadata, ModelTestsRecord
from .config import GateConfig

LOWER_IS_BETTER = frozenset({"log_loss", "brier"})
CALIBRATION_BINS = 10


class CardConfig(FrozenModel):
    """`config/model_card.yaml`: the card's words; everything else comes from the pipeline."""

    title: str = "Model card"
    summary: str = ""
    owners: tuple[str, ...] = ()
    intended_use: str = Field(min_length=1)
    users: tuple[str, ...] = ()
    out_of_scope: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    ethical_considerations: tuple[str, ...] = ()


def load_card_config(path: Any) -> CardConfig:
    """Read config/model_card.yaml with one readable error for any problem."""
    return load_yaml(path, CardConfig, "model card configuration", ConfigError)


# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Heading:
    """A section title."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text (`code` spans in backticks)."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A bullet list."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Heading | Paragraph | Bullets | Table


# ---------------------------------------------------------------- facts


@dataclass(frozen=True)
class Calibration:
    """Reliability of the probabilities on the test split, per probability bin."""

    bins: tuple[tuple[float, float, float, float, int], ...]  # lo, hi, mean predicted, observed, n
    expected_error: float

    @classmethod
    def measure(
        cls, truth: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS
    ) -> Calibration:
        """Equal-width bins of the predicted probability; ECE weighted by rows."""
        edges = np.linspace(0.0, 1.0, bins + 1)
        which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
        rows = []
        error = 0.0
        for b in range(bins):
            inside = which == b
            n = int(inside.sum())
            if not n:
                continue
            predicted, observed = float(scores[inside].mean()), float(truth[inside].mean())
            rows.append((float(edges[b]), float(edges[b + 1]), predicted, observed, n))
            error += n * abs(predicted - observed)
        return cls(tuple(rows), error / max(len(scores), 1))


@dataclass(frozen=True)
class CardFacts:
    """Everything the card states, gathered by the `model-card` command."""

    config: CardConfig
    metadata: ModelMetadata
    metrics: Mapping[str, Any]  # metrics/metrics.json
    gates: GateConfig
    contract_name: str
    contract_version: int
    target: str
    positive_label: str
    target_rate: float | None
    rows_total: int | None
    calibration: Calibration | None
    model_tests: ModelTestsRecord | None
    tracking: str  # where the run lives (no credentials)
    slice_metric: str = "roc_auc"
    notes: tuple[str, ...] = field(default_factory=tuple)


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    return f"{value:.{digits}f}"


def metrics_table(metrics: Mapping[str, Any], gates: GateConfig) -> Table:
    """Each test metric beside the gate's floor (ceiling) and largest allowed regression."""
    rows = []
    for name, value in sorted(metrics.items()):
        floor = gates.floors.get(name)
        if floor is None:
            bar = "–"
        else:
            bar = f"≤ {floor:g}" if name in LOWER_IS_BETTER else f"≥ {floor:g}"
        met = "–"
        if floor is not None and isinstance(value, int | float):
            ok = value <= floor if name in LOWER_IS_BETTER else value >= floor
            met = "✅ met" if ok else "❌ missed"
        regression = gates.max_regression.get(name)
        allowed = "–" if regression is None else f"{regression:g}"
        rows.append((name, _num(value), bar, met, allowed))
    return Table(
        ("metric", "test split", "gate floor", "floor", "max regression vs baseline"), tuple(rows)
    )


@dataclass(frozen=True)
class SliceGap:
    """The spread of one metric across the scored slices of one column."""

    column: str
    best: tuple[str, float]
    worst: tuple[str, float]

    @property
    def gap(self) -> float:
        """Best minus worst."""
        return self.best[1] - self.worst[1]


def slice_gaps(
    slices: Mapping[str, Mapping[str, Mapping[str, Any]]], metric: str
) -> list[SliceGap]:
    """Per slice column, its best and worst scored slice; largest gap first."""
    gaps = []
    for column, values in slices.items():
        scored = [
            (value, float(entry[metric]))
            for value, entry in values.items()
            if isinstance(entry.get(metric), int | float)
            and not isinstance(entry.get(metric), bool)
        ]
        if len(scored) < 2:
            continue
        scored.sort(key=lambda item: item[1])
        gaps.append(SliceGap(column, best=scored[-1], worst=scored[0]))
    return sorted(gaps, key=lambda g: g.gap, reverse=True)


def weakest_slice(
    slices: Mapping[str, Mapping[str, Mapping[str, Any]]], metric: str
) -> tuple[str, str, float] | None:
    """(column, value, metric) of the lowest-scoring scored slice of all columns."""
    lowest: tuple[str, str, float] | None = None
    for column, values in slices.items():
        for value, entry in values.items():
            number = entry.get(metric)
            if isinstance(number, bool) or not isinstance(number, int | float):
                continue
            if lowest is None or float(number) < lowest[2]:
                lowest = (column, value, float(number))
    return lowest


def _slice_blocks(facts: CardFacts) -> list[Block]:
    metric = facts.slice_metric
    slices = facts.metrics.get("slices") or {}
    if not slices:
        return [Paragraph("No slices configured (`slices.columns` in `config/model.yaml`).")]
    blocks: list[Block] = []
    weakest = weakest_slice(slices, metric)
    gaps = slice_gaps(slices, metric)
    if weakest is not None:
        column, value, number = weakest
        blocks.append(Paragraph(f"Weakest slice: `{column} = {value}` ({metric} {number:.4f})."))
    if gaps:
        largest = gaps[0]
        limit = facts.gates.slices.max_drop
        blocks.append(
            Paragraph(
                f"Largest gap: `{largest.column}`, {metric} {largest.gap:.4f} between "
                f"`{largest.best[0]}` ({largest.best[1]:.4f}) and `{largest.worst[0]}` "
                f"({largest.worst[1]:.4f}). The gate blocks a drop of more than {limit:g} "
                f"in any slice of at least {facts.gates.slices.min_rows} test rows against "
                "the baseline."
            )
        )
    rows = []
    for column, values in sorted(slices.items()):
        for value, entry in sorted(values.items()):
            status = str(entry.get("status", ""))
            rows.append(
                (
                    column,
                    value,
                    str(entry.get("n", "–")),
                    _num(entry.get("positive_rate"), 3),
                    _num(entry.get(metric)),
                    _num(entry.get("recall")),
                    "" if status == "scored" else status.replace("_", " "),
                )
            )
    blocks.append(
        Table(("column", "value", "rows", "positive rate", metric, "recall", "note"), tuple(rows))
    )
    return blocks


def _calibration_blocks(facts: CardFacts) -> list[Block]:
    calibration = facts.calibration
    metrics = facts.metrics.get("metrics") or {}
    head = f"Brier score {_num(metrics.get('brier'))}, log loss {_num(metrics.get('log_loss'))}"
    if calibration is None:
        return [Paragraph(head + ". (Reliability table not computed.)")]
    rows = tuple(
        (f"{lo:.1f}–{hi:.1f}", f"{predicted:.3f}", f"{observed:.3f}", str(n))
        for lo, hi, predicted, observed, n in calibration.bins
    )
    return [
        Paragraph(
            f"{head}; expected calibration error {calibration.expected_error:.4f} "
            "(mean |predicted − observed| over the test split, by probability bin)."
        ),
        Table(("predicted probability", "mean predicted", "observed rate", "rows"), rows),
    ]


def _model_test_blocks(facts: CardFacts) -> list[Block]:
    record = facts.model_tests
    if record is None:
        return [
            Paragraph(
                "No model test results found: run `make model-test` before `make model-card`."
            )
        ]
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(record.counts.items()))
    version = facts.metadata.model_version
    same = record.model_version == version
    note = "" if same else f" — on model version {record.model_version}, not {version}: re-run them"
    rows = tuple(
        (
            result.name,
            {"passed": "✅ passed", "failed": "❌ failed"}.get(result.outcome, result.outcome),
            result.message,
        )
        for result in record.results
    )
    ran = f"`make model-test` ran {len(record.results)} checks ({counts})"
    return [
        Paragraph(f"{ran} at {record.finished_at}{note}."),
        Table(("check", "result", "message"), rows),
    ]


def _data_blocks(facts: CardFacts) -> list[Block]:
    data = facts.metrics.get("data") or {}
    rows = data.get("rows") or {}
    data_sha = str(data.get("fingerprint") or facts.metadata.data_fingerprint)
    lines = [
        f"Data contract `{facts.contract_name}` version {facts.contract_version} "
        f"(fingerprint `{data.get('contract') or facts.metadata.contract_fingerprint}`).",
        f"Data file sha256 `{data_sha[:16]}…`.",
    ]
    if facts.rows_total is not None:
        lines.append(
            f"{facts.rows_total:,} rows: {rows.get('train', '–')} for training, "
            f"{rows.get('test', '–')} held out for testing (the same rows on every run)."
        )
    if facts.target_rate is not None:
        lines.append(
            f"Target `{facts.target}`: {facts.target_rate:.1%} of rows are "
            f"`{facts.positive_label}`."
        )
    return [Bullets(tuple(lines))]


def _training_blocks(facts: CardFacts) -> list[Block]:
    metadata = facts.metadata
    tracked = metadata.mlflow
    model = facts.metrics.get("model") or {}
    params = dict(metadata.estimator_params) or "default parameters"
    served = "ONNX" if metadata.onnx.exported else "the scikit-learn pipeline"
    items = [
        f"Estimator `{metadata.estimator}` with {params}, decision threshold "
        f"{metadata.threshold:g}.",
        f"Trained at {metadata.trained_at or '–'}; model size {model.get('size_bytes', '–')} "
        f"bytes; served as {served}.",
    ]
    if tracked is not None:
        items.append(
            f"Registered model `{tracked.registered_model_name}` version {tracked.version or '–'} "
            f"(MLflow run `{tracked.run_id}`, {facts.tracking})."
        )
    return [Bullets(tuple(items))]


def build_card(facts: CardFacts) -> list[Block]:
    """The whole card, section by section."""
    config = facts.config
    version = facts.metadata.model_version
    metrics = facts.metrics.get("metrics") or {}
    blocks: list[Block] = [Heading(f"{config.title} — version {version}", 1)]
    if config.summary:
        blocks.append(Paragraph(config.summary))
    if config.owners:
        blocks.append(Paragraph("Owners: " + ", ".join(config.owners)))
    blocks += [Heading("Intended use"), Paragraph(config.intended_use)]
    if config.users:
        blocks.append(Bullets(tuple(f"User: {u}" for u in config.users)))
    if config.out_of_scope:
        blocks += [Heading("Out of scope"), Bullets(config.out_of_scope)]
    if config.limitations:
        blocks += [Heading("Limitations"), Bullets(config.limitations)]
    if config.ethical_considerations:
        blocks += [Heading("Ethical considerations"), Bullets(config.ethical_considerations)]
    blocks += [Heading("Data"), *_data_blocks(facts)]
    blocks += [
        Heading("Metrics and the gate's thresholds"),
        Paragraph(
            "On the held-out test split. Floors (ceilings for lower-is-better metrics) and the "
            "largest allowed regression against the baseline come from `config/gates.yaml`; "
            "`make compare` blocks a model that misses either."
        ),
        metrics_table(metrics, facts.gates),
    ]
    blocks += [Heading(f"Slices ({facts.slice_metric})"), *_slice_blocks(facts)]
    blocks += [Heading("Calibration"), *_calibration_blocks(facts)]
    blocks += [Heading("Model tests"), *_model_test_blocks(facts)]
    blocks += [Heading("Training run and registry"), *_training_blocks(facts)]
    if facts.notes:
        blocks += [Heading("Notes"), Bullets(facts.notes)]
    return blocks


# ---------------------------------------------------------------- rendering


def _md_cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def to_markdown(blocks: Sequence[Block]) -> str:
    """GitHub-flavoured Markdown."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            out += [block.text, ""]
        elif isinstance(block, Bullets):
            out += [f"- {item}" for item in block.items] + [""]
        else:
            out.append("| " + " | ".join(block.header) + " |")
            out.append("|" + " --- |" * len(block.header))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escape, then turn `code` spans into <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:.5rem 0 1rem}"
    "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}th{background:#f3f3f3}"
    "code{background:#f3f3f3;padding:0 .2rem}"
)


def to_html(blocks: Sequence[Block]) -> str:
    """One self-contained page (inline CSS, nothing loaded from elsewhere)."""
    title = next((b.text for b in blocks if isinstance(b, Heading)), "Model card")
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{_inline(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block.items) + "</ul>")
        else:
            head = "".join(f"<th>{_inline(h)}</th>" for h in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                for row in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
