"""What the Export dialog's fields ask for, in the exporter's and render/web's terms.

Why a module: turning the form into an `ExportOptions` (or a web page's `WebOptions`),
picking the run it draws (the snapshot on screen, every snapshot for a replay or a page,
Compare's two runs), checking the whole request and saying in words which step and
camera it shows is one job, with no widgets of its own: it only reads the fields
(ui/export_fields.py). The dialog (ui/export_dialog.py) shows what this answers, the
preview (ui/export_preview.py) draws it and the running export (ui/export_progress.py)
writes it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nndyn_gui.core.analysis import comparison
from nndyn_gui.core.types import Run
from nndyn_gui.render import export_spec as spec
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.export import ExportError, ExportOptions
from nndyn_gui.render.scene import ViewOptions
from nndyn_gui.render.web import WebOptions
from nndyn_gui.ui import steps
from nndyn_gui.ui.export_fields import VIDEO, WEB, ExportFields, camera_text, content_problem
from nndyn_gui.ui.export_web import check_web, kept_snapshots
from nndyn_gui.ui.state import AppState

#: Compare's export: (run A, run B, their names)
ComparePair = tuple[Run, Run, list[str]]


def runs_title(state: AppState, compare: ComparePair | None) -> str:
    """The title of the run(s) exported, from their configs (core.analysis.narrator)."""
    if compare is not None:
        return comparison.compare_titles(compare[0].config, compare[1].config)[0]
    return spec.title_for(state.config)


class ExportRequest:
    """The export the fields describe: its options, its run, its checks and its words.

    `view_options`, `camera` and `camera_keys` are the window's (exports look as it does);
    `compare`: opened from Compare, its two runs and their names."""

    def __init__(
        self,
        fields: ExportFields,
        state: AppState,
        view_options: ViewOptions | None = None,
        camera: tuple[float, float, float] | None = None,
        camera_keys: list[CameraKey] | None = None,
        compare: ComparePair | None = None,
    ) -> None:
        self.fields = fields
        self.state = state
        self.view_options = view_options
        self.camera = camera  # the window's 3-D camera: exports look from there
        self.camera_keys = list(camera_keys or [])  # a saved camera path (layers flow)
        self.compare = compare

    def ext(self) -> str:
        return self.fields.ext()

    def is_web(self) -> bool:
        """The web page is chosen (render/web writes it, not the Exporter)."""
        return self.ext() == WEB

    def content(self) -> str:
        return str(self.fields.content_combo.currentData())

    def title(self) -> str:
        """The title proposed for the run(s) exported."""
        return runs_title(self.state, self.compare)

    def problem(self, content: str) -> str:
        """Why `content` cannot be picked for the chosen format and this net ("" if it can)."""
        if self.is_web():  # the Content list is off for a page, its reason under it
            return ""
        if self.compare is not None:
            run = self.compare[0]
            return content_problem(
                self.ext(), content, run.config.model.width, len(run.snapshots), partner=True
            )
        return content_problem(
            self.ext(), content, self.state.config.model.width, len(self.state.snapshots)
        )

    def options(self) -> ExportOptions:
        """The ExportOptions the fields describe (not validated)."""
        f = self.fields
        numbers: dict[str, Any] = {n.field: f.spins[n.field].value() for n in spec.NUMBERS}
        if self.ext() not in VIDEO:  # a still has no hold
            numbers[spec.HOLD.field] = 0.0
        pair = self.compare
        return ExportOptions(
            path=f.path_edit.text().strip(),
            content=self.content(),
            width=f.width_spin.value(),
            height=f.height_spin.value(),
            **numbers,
            background=str(f.background_combo.currentData()),
            title=f.title_edit.text().strip(),
            caption=f.caption_edit.text().strip(),
            view=self.view_options,
            legend=f.legend_check.isChecked(),
            camera=self.camera,
            camera_keys=list(self.camera_keys) or None,
            compare_with=pair[1] if pair is not None else None,
            labels=(pair[2][0], pair[2][1]) if pair is not None else None,
        )

    def web_options(self) -> WebOptions:
        """The WebOptions the Page row, background and title describe (not validated)."""
        f = self.fields
        bg = str(f.background_combo.currentData())
        return f.web_options(bg, f.title_edit.text().strip())

    def run_for_export(self, content: str) -> Run:
        """The run as plain data; stills and flows show the snapshot the user is looking at,
        a web page every snapshot (its slider moves over training).

        From Compare: its first run (the second travels in the options)."""
        if self.compare is not None:
            return self.compare[0]
        run = self.state.run()
        if self.is_web():
            return run
        cur = self.state.current
        if content != "training" and cur is not None and cur in run.snapshots:
            run.snapshots = run.snapshots[: run.snapshots.index(cur) + 1]
        return run

    def error(self) -> str:
        """Why the export cannot be written as the fields say, in one line ("" if it can);
        an existing file is no reason here (Export asks before replacing it)."""
        try:
            if self.is_web():
                path = self.fields.path_edit.text().strip()
                check_web(self.run_for_export(self.content()), path, self.web_options(), True)
            else:
                dataclasses.replace(self.options(), overwrite=True).validate(
                    self.run_for_export(self.content())
                )
        except ExportError as e:
            return str(e)
        return ""

    def camera_text(self) -> str:
        """Where the export looks from, in words (the Camera row)."""
        run_cfg = self.compare[0].config if self.compare is not None else self.state.config
        return camera_text(
            run_cfg.model.width, self.content(), self.camera_keys, self.camera, self.is_web()
        )

    def snapshot_text(self) -> str:
        """Which step the export shows: the snapshot on screen for a still or a flow
        (both runs' for Compare), every snapshot up to it for a training replay, the
        snapshots a page keeps."""
        content = self.content()
        snaps = self.run_for_export(content).snapshots
        if not snaps:
            return "no snapshot"
        last = steps.step_name(snaps[-1])
        if self.is_web():
            return kept_snapshots(snaps, self.fields.web_spins["snapshots"].value())
        if self.compare is not None:
            return f"{last} of both runs"
        if content == "training":
            return f"{len(snaps):,} snapshots, {steps.step_name(snaps[0])} to {last}"
        return last
