"""What an ingest run reports: files, rows read and kept, problems, and snapshots stored."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from db.importers.document import Problem
from db.snapshots import StoreOutcome, StoreResult

MAX_PROBLEMS_KEPT = 200

# file, bytes read, file size, rows read so far in the run (all files)
ProgressHook = Callable[[Path, int, int, int], None]


@dataclass
class IngestSummary:
    kind: str  # "postings" or "candidates"
    files: list[str] = field(default_factory=list)
    rows: int = 0
    bad_rows: int = 0
    stored: int = 0  # new rows kept
    duplicates: int = 0  # seen before (same id, or the same ad reposted)
    unmapped_titles: Counter[str] = field(default_factory=Counter)
    unknown_skills: Counter[str] = field(default_factory=Counter)
    pay_kinds: Counter[str] = field(default_factory=Counter)
    predicted_salaries: int = 0
    outliers_dropped: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    snapshots: list[StoreResult] = field(default_factory=list)
    # Peak memory of each parsing worker process (MB), when workers were used.
    worker_peaks_mb: list[float] = field(default_factory=list)

    def note_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem)

    def sort_problems(self) -> None:
        """File by file, line by line (reading and parsing report them at different times)."""
        order = {name: index for index, name in enumerate(self.files)}
        self.problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line or 0))

    def snapshot_counts(self) -> Counter[StoreOutcome]:
        return Counter(result.outcome for result in self.snapshots)
