"""The three tables, readable in a terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from gongkai.formats import load_format
from gongkai.model import Report


def _fmt(value) -> str:
    if value is None:
        return "[dim]·[/dim]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    fmt = load_format(report.format)
    console.rule(f"{report.agency or '（单位不详）'} {report.year or ''} 年 · 格式 {fmt.id} · {report.source or ''}")
    for table in fmt.tables:
        layout = report.tables.get(table.key)
        found = "" if layout is None or layout.found else "（未找到）"
        for block in table.blocks:
            rows = [r for r in block.rows if not r.optional or f"{table.key}.{r.key}.{block.columns[0].key}" in report.cells]
            title = f"表{table.number} {table.title}{found}" + (f" · {block.heading}" if block.heading else "")
            grid = RichTable(title=title, show_lines=False, title_justify="left")
            grid.add_column("")
            for col in block.columns:
                grid.add_column(col.label, justify="right")
            for row in rows:
                label = f"{row.group or ''} {row.label}".strip() if table.layout == "line" else row.label
                grid.add_row(label, *(_fmt(report.value(f"{table.key}.{row.key}.{c.key}")) for c in block.columns))
            console.print(grid)
    for note in report.notes:
        console.print(f"[yellow]注意[/yellow] {note}")
