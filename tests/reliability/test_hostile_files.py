"""Hostile run files: they never hang, never bloat, and say what is wrong in one line.

Each test runs the real command (`nndyn info`, `nndyn render`, `nndyn-gui --open`) in a
child process with a timeout, so a regression that hangs fails the test instead of the
suite, and measures the child's own peak memory (wait4), so a bomb that is decompressed
fails even when the machine has the memory to survive it.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import threading
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.io import limits
from nndyn_gui.core.io.runfile import RunFileError, load_run, save_run
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, Run

from . import PYTHON, nndyn_cmd, run_measured, subprocess_env, tiny_run
from . import hostile as h

# `nndyn info` of a small file needs ~60 MB; a decompressed bomb shows as far more.
LEAN_MB = 160
TIMEOUT_S = 30.0
GUI_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def valid(folder: Path) -> bytes:
    return h.run_bytes(tiny_run(), folder)


def _write(folder: Path, name: str, raw: bytes) -> Path:
    path = folder / name
    path.write_bytes(raw)
    return path


def _info(path: Path | str, *extra: str) -> object:
    return run_measured(nndyn_cmd("info", str(path), *extra), TIMEOUT_S, memory_limit_mb=2048)


# ---------------------------------------------------------------------- item 1: huge values
def _huge_coordinate_run() -> Run:
    run = tiny_run(model__width=3)
    run.dataset.x_test[:] = -1e308  # finite, but any mean over it overflows to -inf
    return run


def _raw_save(run: Run, path: Path) -> None:
    """Write a run the way an older nndyn (or a script) could: no checks on the values."""
    valid = h.run_bytes(tiny_run(model__width=run.config.model.width), path.parent)
    data = h.npz(
        {
            "x_train": run.dataset.x_train,
            "y_train": run.dataset.y_train,
            "x_test": run.dataset.x_test,
            "y_test": run.dataset.y_test,
        }
    )
    path.write_bytes(h.with_member(valid, "data.npz", data))


def test_huge_coordinates_are_refused_at_once_by_info_render_and_the_window(
    folder: Path,
) -> None:
    """x_test = -1e308 used to hang `nndyn render` and `nndyn-gui --open` for good (an
    SVD of a matrix holding -inf never returns); now every door refuses it in one line."""
    path = folder / "huge.nndyn"
    _raw_save(_huge_coordinate_run(), path)
    info = _info(path)
    assert "coordinates beyond" in info.one_line_error(), info.stderr
    render = run_measured(
        nndyn_cmd("render", str(path), "--out", str(folder / "huge.png"), "-q", "--no-3d"),
        TIMEOUT_S,
    )
    assert render.rc == 2, (render.rc, render.seconds, render.stderr[-2000:])
    assert "coordinates beyond" in render.stderr and "Traceback" not in render.stderr
    assert not (folder / "huge.png").exists()
    gui = run_measured(
        [PYTHON, "-m", "nndyn_gui", "--open", str(path), "--quit"],
        GUI_TIMEOUT_S,
        env=subprocess_env(NNDYN_NO_AUTOSAVE="1", NNDYN_SETTINGS_DIR=str(folder / "settings")),
    )
    assert gui.rc == 2, (gui.rc, gui.seconds, gui.stderr[-2000:])
    assert "coordinates beyond" in gui.stderr and "Traceback" not in gui.stderr


def test_weights_beyond_the_limit_are_refused(folder: Path, valid: bytes) -> None:
    snaps = h.npz_arrays(h.members(valid)["snapshots.npz"])
    snaps["A"] = snaps["A"] * 0 + 1e300
    path = _write(folder, "big-weights.nndyn", h.with_member(valid, "snapshots.npz", h.npz(snaps)))
    with pytest.raises(RunFileError, match="weights beyond"):
        load_run(path)


# ---------------------------------------------------------------------- item 2: zip bombs
@pytest.mark.timing
def test_bzip2_member_is_refused_without_decompressing(folder: Path, valid: bytes) -> None:
    """A 3 KB file whose status.json declares 200 bytes but holds a bzip2 stream of
    256 MB of zeros (5 GB in the report): refused by its compression method."""
    raw = h.bomb_run(valid, "status.json", 256 * 2**20, zipfile.ZIP_BZIP2, 200)
    path = _write(folder, "bz2-bomb.nndyn", raw)
    assert path.stat().st_size < 10_000
    info = _info(path)
    assert "compression method 12" in info.one_line_error()
    assert info.peak_mb < LEAN_MB, info.peak_mb
    assert info.seconds < 10, info.seconds


def test_lzma_member_is_refused(folder: Path, valid: bytes) -> None:
    parts = h.members(valid)
    path = _write(folder, "lzma.nndyn", h.zip_of(parts, zipfile.ZIP_LZMA))
    with pytest.raises(RunFileError, match="compression method 14"):
        load_run(path)


def test_deflate_bomb_in_the_data_is_refused_by_the_configs_budget(
    folder: Path, valid: bytes
) -> None:
    """data.npz honestly declaring 400 MB of zeros (a 400 KB file) for a 60-point config:
    refused before decompressing, because 60 points never need more than a few KB."""
    raw = h.bomb_run(valid, "data.npz", 400 * 2**20, zipfile.ZIP_DEFLATED, 400 * 2**20)
    path = _write(folder, "deflate-bomb.nndyn", raw)
    assert path.stat().st_size < 1_000_000
    info = _info(path)
    assert "data.npz claims" in info.one_line_error()
    assert info.peak_mb < LEAN_MB, info.peak_mb


def test_encrypted_member_is_named_without_python_internals(folder: Path, valid: bytes) -> None:
    path = _write(folder, "enc.nndyn", h.set_flag_bits(valid, "status.json", 0x1))
    line = _info(path).one_line_error()
    assert "status.json is encrypted" in line and "ZipInfo" not in line, line


# ---------------------------------------------------------------------- item 3: sizes
def test_forty_million_points_are_refused_from_the_array_header(folder: Path) -> None:
    """A ~1 MB file with 10 M points (40 M in the report: 2.3 GB in `info`), in a config of
    data.n = 100 000: refused from the .npy header, before a single point is read."""
    base = tiny_run()
    base.config.data.n = 100_000
    raw = h.many_points_run(h.run_bytes(base, folder), 10_000_000)
    path = _write(folder, "points.nndyn", raw)
    assert path.stat().st_size < 2_000_000
    info = _info(path)
    line = info.one_line_error()
    assert "data.npz" in line and ("points" in line or "claims" in line), line
    assert info.peak_mb < LEAN_MB, info.peak_mb


def test_more_points_than_the_config_allows_are_refused(folder: Path) -> None:
    run = tiny_run()
    run.config.data.n = 30  # the data hold 40 points
    path = folder / "too-many.nndyn"
    with pytest.raises(RunFileError, match=r"data\.n"):
        save_run(run, path)  # never written ...
    run.config.data.n = 60
    raw = h.run_bytes(run, folder)
    cfg = json.loads(h.members(raw)["config.json"])
    cfg["data"]["n"] = 30
    path.write_bytes(h.with_member(raw, "config.json", json.dumps(cfg).encode()))
    with pytest.raises(RunFileError, match=r"40 points.*at most 30"):
        load_run(path)  # ... and never read


@pytest.mark.timing
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "sparse-3GB"])
def test_devices_pipes_and_huge_files_are_refused_before_reading(folder: Path, kind: str) -> None:
    """`nndyn info /dev/zero` and a FIFO hung; a 3 GB non-zip reached 3.1 GB of memory."""
    if kind == "dev-zero":
        path = Path("/dev/zero")
        expect = "not a regular file"
    elif kind == "fifo":
        path = folder / "pipe.nndyn"
        if not path.exists():
            os.mkfifo(path)
        expect = "not a regular file"
    else:
        path = folder / "big.nndyn"
        with open(path, "wb") as f:
            f.truncate(3 * 2**30)  # sparse: no disk space used
        expect = "may be at most"
    info = _info(path)
    assert expect in info.one_line_error(), info.stderr
    assert info.peak_mb < LEAN_MB and info.seconds < 10, (info.peak_mb, info.seconds)


def test_window_refuses_a_fifo_at_once(folder: Path) -> None:
    path = folder / "gui-pipe.nndyn"
    os.mkfifo(path)
    gui = run_measured(
        [PYTHON, "-m", "nndyn_gui", "--open", str(path), "--quit"],
        GUI_TIMEOUT_S,
        env=subprocess_env(NNDYN_NO_AUTOSAVE="1", NNDYN_SETTINGS_DIR=str(folder / "settings")),
    )
    assert gui.rc == 2 and "not a regular file" in gui.stderr, (gui.rc, gui.stderr[-2000:])


# ---------------------------------------------------------------------- item 4: csv_path
@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_run_whose_csv_path_is_a_device_or_pipe_is_refused(folder: Path, target: str) -> None:
    """`nndyn train evil.nndyn` read /dev/zero without end (MemoryError traceback)."""
    if target == "fifo":
        fifo = folder / "data-pipe.csv"
        if not fifo.exists():
            os.mkfifo(fifo)
        target = str(fifo)
    run = tiny_run()
    cfg = run.config.to_dict()
    cfg["data"].update(name="csv", csv_path=target)
    raw = h.with_member(h.run_bytes(run, folder), "config.json", json.dumps(cfg).encode("utf-8"))
    path = _write(folder, "evil-csv.nndyn", raw)
    train = run_measured(nndyn_cmd("train", str(path), "--quiet"), TIMEOUT_S, memory_limit_mb=2048)
    line = train.one_line_error()
    assert "not a regular file" in line, line
    assert train.peak_mb < LEAN_MB, train.peak_mb


PANEL_APPLY = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from nndyn_gui.core.io.runfile import load_run
from nndyn_gui.ui.param_panel import ParamPanel
from nndyn_gui.ui.state import AppState
state = AppState()
state.load_run(load_run(sys.argv[1]))
panel = ParamPanel(state)
applied = panel.apply("data.test_fraction", 0.3)
print("APPLIED" if applied else "REFUSED", panel.csv_error.text())
"""


def test_window_data_change_on_a_run_whose_csv_is_a_device_says_why(folder: Path) -> None:
    """In the window, changing a data setting of such a run let a MemoryError escape
    ParamPanel.apply (a child with 1 GB of address space, so a regression cannot eat more)."""
    run = tiny_run()
    cfg = run.config.to_dict()
    cfg["data"].update(name="csv", csv_path="/dev/zero")
    raw = h.with_member(h.run_bytes(run, folder), "config.json", json.dumps(cfg).encode())
    path = _write(folder, "window-csv.nndyn", raw)
    r = run_measured(
        [PYTHON, "-c", PANEL_APPLY, str(path)],
        GUI_TIMEOUT_S,
        env=subprocess_env(NNDYN_SETTINGS_DIR=str(folder / "settings")),
        memory_limit_mb=3072,
    )
    assert r.rc == 0, (r.rc, r.stderr[-2000:])
    assert r.stdout.startswith("REFUSED") and "not a regular file" in r.stdout, r.stdout


# ---------------------------------------------------------------------- items 13, 14, 16, 17
def test_render_of_a_diverged_run_is_one_line_not_a_traceback(folder: Path) -> None:
    """relu, h 10, init x10, 198 blocks: every number overflows. `nndyn render` printed
    `LinAlgError: SVD did not converge` with a traceback."""
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth = 3, 198
    cfg.model.activation, cfg.model.h, cfg.model.init_scale = "relu", 10.0, 10.0
    cfg.data.n = 200
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) > 0.5).astype(np.int64)
    run = Run(
        cfg,
        Dataset(x[:150], y[:150], x[150:], y[150:], "ring"),
        [],
        "diverged",
        "The initial loss is not finite.",
    )
    path = folder / "diverged.nndyn"
    save_run(run, path)
    out = folder / "diverged.png"
    r = run_measured(
        nndyn_cmd("render", str(path), "--out", str(out), "-q", "--no-3d", "--force"), TIMEOUT_S
    )
    # the picture is drawn (the projection never sees a non-finite matrix), with a warning
    assert r.rc == 0, (r.rc, r.seconds, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr, r.stderr[-2000:]
    assert out.exists() and out.stat().st_size > 1000


def test_lone_surrogate_in_status_is_shown_not_a_traceback(folder: Path, valid: bytes) -> None:
    status = b'{"status": "finished", "message": "bad \\ud800 text"}'
    path = _write(folder, "surrogate.nndyn", h.with_member(valid, "status.json", status))
    info = _info(path)
    assert info.rc == 0, info.stderr[-2000:]
    assert "bad \ufffd text" in info.stdout and "Traceback" not in info.stderr
    as_json = _info(path, "--json")
    assert as_json.rc == 0 and json.loads(as_json.stdout)["message"] == "bad \ufffd text"


def test_control_characters_from_a_file_never_reach_the_terminal(
    folder: Path, valid: bytes
) -> None:
    """A title that sets the terminal's title (OSC 0) and a message that clears the screen."""
    parts = h.members(valid)
    cfg = json.loads(parts["config.json"])
    cfg["title"] = "\x1b]0;pwned\x07talk"
    parts["config.json"] = json.dumps(cfg).encode()
    parts["status.json"] = json.dumps(
        {"status": "finished", "message": "ok\x1b[2J\u202edone"}
    ).encode()
    path = _write(folder, "escapes.nndyn", h.zip_of(parts))
    info = _info(path)
    assert info.rc == 0, info.stderr[-2000:]
    for bad in ("\x1b", "\x07", "\u202e"):
        assert bad not in info.stdout
    assert "\\x1b]0;pwned\\x07talk" in info.stdout and "\\x1b[2J\\u202edone" in info.stdout
    # ... nor through an error message that quotes the file (an unknown config key)
    cfg["model"]["\x1b]0;pwned\x07"] = 1
    parts["config.json"] = json.dumps(cfg).encode()
    keyed = _write(folder, "escapes-key.nndyn", h.zip_of(parts))
    for cmd in (["info"], ["render", "--out", str(folder / "k.png"), "-q"]):
        r = run_measured(nndyn_cmd(cmd[0], str(keyed), *cmd[1:]), TIMEOUT_S)
        assert r.rc == 2 and "\\x1b]0;pwned\\x07" in r.stderr, (cmd, r.stderr[-1000:])
        assert "\x1b" not in r.stderr and "\x07" not in r.stderr, cmd


def test_huge_float_steps_are_refused_without_numpy_warnings(folder: Path, valid: bytes) -> None:
    snaps = h.npz_arrays(h.members(valid)["snapshots.npz"])
    snaps["steps"] = np.array([0.0, 10.0, 1e30])
    path = _write(folder, "steps.nndyn", h.with_member(valid, "snapshots.npz", h.npz(snaps)))
    line = _info(path).one_line_error()  # no "RuntimeWarning: invalid value" lines
    assert "steps" in line, line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RunFileError, match="steps are negative, huge or out of order"):
            load_run(path)


def test_config_file_with_a_5000_digit_number_is_one_line_without_python_hints(
    folder: Path,
) -> None:
    path = folder / "digits.json"
    path.write_text('{"data": {"n": ' + "9" * 5000 + "}}")
    r = run_measured(nndyn_cmd("train", str(path)), TIMEOUT_S)
    line = r.one_line_error()
    assert "more than 4300 digits" in line and "sys." not in line, line


def test_config_file_that_is_a_device_is_refused(folder: Path) -> None:
    r = run_measured(nndyn_cmd("train", "/dev/zero"), TIMEOUT_S, memory_limit_mb=2048)
    assert "not a regular file" in r.one_line_error()


# ---------------------------------------------------------------------- in process
def test_npz_with_many_listed_members_is_refused_from_its_end_record(
    folder: Path, valid: bytes
) -> None:
    """zipfile builds one object per listed member before anything can be checked (with
    zip64, millions from a small file): the count is read from the end record first."""
    inner = h.raw_zip([(f"{i}.npy", b"", zipfile.ZIP_STORED, 0, 0) for i in range(60_000)])
    path = _write(folder, "members.nndyn", h.with_member(valid, "snapshots.npz", inner))
    with pytest.raises(RunFileError, match=r"snapshots\.npz lists 60000 members"):
        load_run(path)


def test_snapshots_beyond_the_memory_limit_are_refused_from_the_header(
    folder: Path, valid: bytes
) -> None:
    """snapshots.npz may hold at most SNAPSHOT_MEMORY_BYTES, whatever its zip says."""
    snaps = h.npz_arrays(h.members(valid)["snapshots.npz"])
    inner = {k: v for k, v in snaps.items() if k != "loss"}
    raw_inner = h.npz(inner)
    head = h.npy_header((limits.SNAPSHOT_MEMORY_BYTES // 4,))  # twice the limit
    entries = [("loss.npy", head, zipfile.ZIP_STORED, len(head), zlib.crc32(head))]
    with zipfile.ZipFile(io.BytesIO(raw_inner)) as z:
        for info in z.infolist():
            data = z.read(info)
            entries.append((info.filename, data, zipfile.ZIP_STORED, len(data), info.CRC))
    path = _write(folder, "snaps.nndyn", h.with_member(valid, "snapshots.npz", h.raw_zip(entries)))
    with pytest.raises(RunFileError, match="declares"):
        load_run(path)


def test_loading_in_a_thread_is_refused_too(folder: Path) -> None:
    """The window loads runs on its GUI thread; nothing here relies on the main thread."""
    path = folder / "thread-huge.nndyn"
    _raw_save(_huge_coordinate_run(), path)
    errors: list[str] = []

    def load() -> None:
        try:
            load_run(path)
        except RunFileError as e:
            errors.append(str(e))

    t = threading.Thread(target=load)
    t.start()
    t.join(20)
    assert not t.is_alive() and errors and "coordinates beyond" in errors[0]


def test_every_run_nndyn_writes_loads_again_at_the_limits(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with more snapshots than the memory limit holds (here 8 MB, 256 MB in use)
    is thinned when saved, so whatever nndyn writes it can read again."""
    from nndyn_gui.core.types import Snapshot

    monkeypatch.setattr(limits, "SNAPSHOT_MEMORY_BYTES", 8 * 2**20)
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth = 64, 20
    cfg.train.snapshot_every = 1
    w = initial_weights(cfg.model, 0)
    snaps = [Snapshot(i, 0.5, 0.5, 0.5, w, 0.0) for i in range(60)]
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 2))
    y = (x[:, 0] > 0).astype(np.int64)
    run = Run(cfg, Dataset(x[:150], y[:150], x[150:], y[150:], "ring"), snaps, "finished")
    path = folder / "limits.nndyn"
    save_run(run, path)
    back = load_run(path)
    steps = [s.step for s in back.snapshots]
    assert len(steps) <= limits.snapshot_capacity(cfg) < 60
    assert steps[0] == 0 and steps[-1] == 59
    assert len({b - a for a, b in itertools.pairwise(steps[:-1])}) == 1  # an even grid
