"""The performance goals, each checked against figures of the same run and printed met or missed.

Throughput goals are ratios to the trivial handler measured in the same run (shared machines
drift, so absolute rates are not comparable between runs); latency goals are absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Result:
    scenario: str
    store: str
    goal: str
    measured: str
    met: bool


@dataclass
class Goals:
    results: list[Result] = field(default_factory=list)

    def at_least(self, scenario: str, store: str, value: float, floor: float, unit: str) -> None:
        shown = f"{value:,.2f}{unit}" if unit == " x" else f"{value:,.0f}{unit}"
        goal = f">= {floor:,.2f}{unit}" if unit == " x" else f">= {floor:,.0f}{unit}"
        self.results.append(Result(scenario, store, goal, shown, value >= floor))

    def at_most(self, scenario: str, store: str, value: float, ceiling: float, unit: str) -> None:
        self.results.append(
            Result(scenario, store, f"<= {ceiling:g}{unit}", f"{value:.2f}{unit}", value <= ceiling)
        )

    def table(self) -> str:
        rows = [("scenario", "store", "goal", "measured", "")]
        rows += [
            (r.scenario, r.store, r.goal, r.measured, "met" if r.met else "MISSED")
            for r in self.results
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        ]
        met = sum(r.met for r in self.results)
        lines.append(f"{met} of {len(self.results)} goals met")
        return "\n".join(lines)
