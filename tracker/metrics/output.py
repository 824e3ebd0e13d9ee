"""`mtx metrics` output: JSON for programs, CSV that `mtx score-signals` reads back, an aligned table for people."""
from __future__ import annotations

import csv
import io

from tracker import vocab
from tracker.metrics.compute import MetricsReport, MetricValue
from tracker.metrics.registry import ALL, signals as registered
from tracker.scoring.render import display_width
from tracker.spreadsheet import csv_cell


def report_json(report: MetricsReport) -> list[dict]:
    """``[{"community": slug, "as_of": "YYYY-MM-DD", "signals": {name: {"value", "reason", "repositories",
    "window"}}}]``; with ``--by repository`` each entry has ``"repository": {"platform", "path"}`` instead."""
    out = []
    for scope in report.scopes:
        entry: dict = ({"community": scope.slug} if report.by == "community"
                       else {"repository": {"platform": scope.platform, "path": scope.path}})
        entry["as_of"] = report.as_of.isoformat()
        entry["signals"] = {name: {**value.as_dict(), "window": value.window}
                            for name, value in scope.signals.items()}
        out.append(entry)
    return out


def report_csv(report: MetricsReport) -> str:
    """A ``name`` column (the community slug, or platform:path) and one column per signal; an empty cell is missing.

    Numbers are written in full (repr), so the file scores exactly as the metrics do."""
    names = list(report.windows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", *names])
    for scope in report.scopes:
        writer.writerow([csv_cell(scope.key), *(("" if scope.signals[n].value is None else repr(scope.signals[n].value))
                                                for n in names)])
    return buffer.getvalue()


def value_text(name: str, value: MetricValue) -> str:
    if value.value is None:
        return "—"
    unit = registered()[name].unit
    if unit == "share":
        return f"{value.value * 100:.1f}%"
    if isinstance(value.value, int):
        return f"{value.value:,}"
    return f"{value.value:,.2f}"


def reason_text(value: MetricValue) -> str:
    if value.reason is None:
        parts = []
    else:
        parts = [f"{vocab.METRIC_REASONS.zh(value.reason)} / {value.reason}"]
    if value.not_collected:
        parts.append("未采集 / not collected: " + _few(value.not_collected))
    if value.left_out:
        parts.append("平台不提供，未计入 / left out: " + _few(value.left_out))
    return "; ".join(parts)


def _few(names: list[str], limit: int = 3) -> str:
    return ", ".join(names[:limit]) + (f" … (+{len(names) - limit})" if len(names) > limit else "")


def _window(window) -> str:
    if window is None:
        return "—"
    return "全部" if window == ALL else f"{window}天"


def report_table(report: MetricsReport) -> str:
    known = registered()
    lines = [f"截至 / as of {report.as_of} (北京时间当日结束 / up to 23:59:59 +08:00)"
             + (f" — {report.as_of_note}" if report.as_of_note else "")]
    header = ["信号 signal", "值 value", "窗口 window", "仓库 repos", "说明 note"]
    for scope in report.scopes:
        focus = f" · {vocab.FOCUS_FIELDS.zh(scope.focus)}" if scope.focus else ""
        title = f"{scope.key}  {scope.name}{focus}" if report.by == "community" else scope.key
        lines += ["", title]
        body = [[f"{known[n].label_zh} {n}", value_text(n, v), _window(v.window), str(v.repositories), reason_text(v)]
                for n, v in scope.signals.items()]
        widths = [max(display_width(row[i]) for row in [header, *body]) for i in range(len(header))]
        for row in [header, *body]:
            cells = [(" " * (widths[i] - display_width(c)) + c) if i in (1, 3) else c + " " * (widths[i] - display_width(c))
                     for i, c in enumerate(row)]
            lines.append("  " + "  ".join(cells).rstrip())
    if not report.scopes:
        lines.append("没有社区 / no communities: add them to config/communities.yaml and run `mtx collect`")
    return "\n".join(lines)
