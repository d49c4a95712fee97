"""Compare's words: the window's title, each column's header, the status line's setup and
verdict, and what each side is called in an export.

Why it exists: every sentence in Compare is the narrator's (core/analysis/comparison.py),
said from the two runs' configs (ui/compare_runs.py) and the snapshots whose numbers the
columns give (the snapshot slider's step, ui/compare_steps.py); one place says them, so
a header, the status line and an export's labels never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QLabel

from nndyn_gui.core.analysis import comparison, narrator
from nndyn_gui.ui.compare_half import CompareHalf
from nndyn_gui.ui.compare_runs import RunPair
from nndyn_gui.ui.compare_steps import SharedSteps
from nndyn_gui.ui.compare_training import RunQueue


class CompareCaptions:
    """Says the words of `sides` (called `names`) on `status` and in `set_title`."""

    def __init__(
        self,
        pair: RunPair,
        names: tuple[str, str],
        sides: Sequence[CompareHalf],
        steps: SharedSteps,
        queue: RunQueue,
        status: QLabel,
        set_title: Callable[[str], None],
    ) -> None:
        self.pair, self.names, self.sides = pair, names, sides
        self.steps, self.queue = steps, queue
        self.status, self.set_title = status, set_title

    def titles(self) -> tuple[str, str, str]:
        """(over both, column A, column B): the narrator's, from each side's config."""
        return comparison.compare_titles(self.pair.config_of(0), self.pair.config_of(1))

    def labels(self) -> list[str]:
        """What each side is called in an export: its title (with its seed), and the test
        accuracy of the snapshot exported (the one the snapshot slider shows) with its step."""
        _top, *halves = self.titles()
        return [
            comparison.compare_half_label(
                f"{self.names[i]}: {halves[i]}", self.steps.snapshot_of(side.result_data)
            )
            for i, side in enumerate(self.sides)
        ]

    def verdict(self) -> narrator.Sentence | None:
        """The narrator's comparison of the snapshots whose numbers the columns give (the
        snapshot slider's step; None: a side has no trained snapshot)."""
        a, b = (
            side.measured(len(self.pair.dataset_of(i).y_test)) for i, side in enumerate(self.sides)
        )
        return None if a is None or b is None else comparison.compare_verdict(a, b, self.names)

    def show_headers(self) -> None:
        """Each column's own title (the narrator's, from its config and seed), and the
        window's: what the two runs have in common; the status line says how they differ
        (unless training)."""
        top, *halves = self.titles()
        self.set_title(f"Compare — {top}")
        for i, side in enumerate(self.sides):
            side.header.setText(f"{self.names[i]}: {halves[i]}")
            side.header.setToolTip(narrator.config_title(self.pair.config_of(i)))
        if not self.queue.running:
            self.status.setText(
                comparison.compare_setup(self.pair.config_of(0), self.pair.config_of(1))
            )

    def show_verdict(self, done: bool = False) -> None:
        """ "Done. " and the narrator's comparison of the two columns' snapshots (once
        both are trained; `done`: training just ended, say so even without one)."""
        q = self.queue
        if q.running or q.failure or q.cancelled:
            return
        sentence = self.verdict()
        if sentence is not None:
            self.status.setText(f"Done. {sentence.text}")
        elif done:
            self.status.setText("Done.")
