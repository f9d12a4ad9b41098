"""What the operator commands print for people: an ingest summary in words."""
from __future__ import annotations


def summary_lines(summary: dict, *, title: str, where: str = "line", extra: str = "") -> list[str]:
    """An ingest summary (IngestBatch.summary()) as lines: counts, every rejected row, categories,
    customers created. `where` names a rejected row's place ("line", "row"); `extra` ends line one."""
    lines = [f"{title}: {summary['rows']} rows: {summary['inserted']} inserted, "
             f"{summary['duplicates']} duplicates, {summary['conflicts']} conflicts, "
             f"{summary['skipped']} skipped (not calls), {len(summary['rejected'])} rejected{extra}"]
    lines += [f"  {where} {r['line']}: {r['reason']}" for r in summary["rejected"]]
    if summary.get("categories"):
        lines.append("  categories: " + ", ".join(f"{k} {v}" for k, v in summary["categories"].items()))
    if summary.get("customers_created"):
        lines.append("  customers created: " + ", ".join(summary["customers_created"]))
    return lines
