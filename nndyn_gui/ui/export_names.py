"""The title and the file name the Export dialog proposes, until the user types their own.

Why a module: the proposals follow what they describe — the title follows an edited
config, the file name (`TITLE-KIND-N.ext`, the first free N in the last export folder)
follows the title, the content and the format — but stop following the moment the user
types or chooses something else, and a written file makes the next proposal take the
next free number. Keeping that memory of "what was proposed last" in one place is one
job; the dialog (ui/export_dialog.py) only connects it to its fields.
"""

from __future__ import annotations

from pathlib import Path

from nndyn_gui.render import export_spec as spec
from nndyn_gui.ui.export_fields import ExportFields
from nndyn_gui.ui.export_request import ExportRequest
from nndyn_gui.ui.export_run import last_export_dir


class ProposedNames:
    """Keeps the fields' title and file name in step with the request until typed over."""

    def __init__(self, fields: ExportFields, request: ExportRequest) -> None:
        self.fields = fields
        self.request = request
        self._proposed_title = fields.title_edit.text()
        self._auto_path = True  # the file name follows the fields until the user types one
        self._suggested = ""  # the name proposed last

    def suggested_path(self) -> str:
        """TITLE-KIND-N.ext in the folder of the last export (or of the file named now)."""
        req = self.request
        text = self.fields.path_edit.text().strip()
        folder = Path(text).expanduser().parent if text else Path(last_export_dir())
        title = self.fields.title_edit.text().strip() or req.title()
        kind = spec.WEB_KIND if req.is_web() else req.content()
        return spec.suggest_path(folder, title, kind, req.ext())

    def follow_config(self, *_: object) -> None:
        """An edited config retitles the export, unless the user typed a title."""
        edit = self.fields.title_edit
        if edit.text() == self._proposed_title:
            self._proposed_title = self.request.title()
            edit.setText(self._proposed_title)

    def follow_fields(self, busy: bool = False) -> None:
        """Keep the proposed file name in step with title, content and format, until a
        name is typed or chosen (anything but the last proposal); not while exporting."""
        edit = self.fields.path_edit
        if edit.text() != self._suggested:
            self._auto_path = False
        if self._auto_path and not busy:
            path = self.suggested_path()
            self._suggested = path
            if path != edit.text():
                edit.blockSignals(True)
                edit.setText(path)
                edit.blockSignals(False)

    def follow_format(self, *_: object) -> None:
        """A typed file name keeps its name and takes the new format's suffix."""
        edit = self.fields.path_edit
        text = edit.text().strip()
        if text and text != self._suggested:
            p = Path(text)
            edit.setText(str(p.with_suffix(self.request.ext())) if p.name else text)

    def restart(self, *_: object) -> None:
        """A file was written: the next export is proposed the next free number again."""
        self._auto_path = True
        self._suggested = self.fields.path_edit.text()
        self.follow_fields()
