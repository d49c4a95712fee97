"""Files under faults (issue 25): every write is checked whole before it replaces the old
file, a device or FIFO is never replaced nor read, the usual permissions everywhere."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.io import files
from nndyn_gui.core.io.files import AtomicWriter, NotRegularError, WriteError
from nndyn_gui.core.io.limits import LimitError, check_regular_file, read_bounded
from nndyn_gui.core.io.runfile import RunFileError, save_run

from . import nndyn_cmd, run_measured, subprocess_env, tiny_run
from .test_faults import _tmpfs

FREE_BYTES = 12 * 1024  # what the disk had left


def _fill_leaving(folder: Path, free: int) -> None:
    """Fill the tmpfs at `folder` until only about `free` bytes are left."""
    left = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / ".filler", "wb") as fh:
        fh.write(b"\0" * max(0, left - free))


def _others(folder: Path, *keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in {".filler", *keep})


@pytest.mark.parametrize("ext", ["svg", "pdf", "png"])
def test_render_on_a_full_disk_with_force_keeps_the_good_file(tmp_path: Path, ext: str) -> None:
    """`nndyn render R --out F/good.svg --force` with 12 KB free: was exit 0 and the good
    file replaced by a truncated one that does not parse."""
    run_path = tmp_path / "run.nndyn"
    save_run(tiny_run(), run_path)
    env = subprocess_env(QT_QPA_PLATFORM="offscreen")
    with _tmpfs(tmp_path / "full", "size=1m") as folder:
        good = folder / f"good.{ext}"
        first = run_measured(nndyn_cmd("render", str(run_path), "--out", str(good)), 120, env)
        assert first.rc == 0, first.stderr
        before = good.read_bytes()
        assert files.check_complete(good) == ""
        _fill_leaving(folder, FREE_BYTES)
        again = run_measured(
            nndyn_cmd(
                "render", str(run_path), "--out", str(good), "--force", "--size", "1600x1200"
            ),
            120,
            env,
        )
        assert again.rc not in (0, None), f"a truncated {ext} was reported as written"
        assert "disk full" in again.stderr, again.stderr
        assert good.read_bytes() == before, "the good file was replaced"
        assert _others(folder, good.name) == [], "a temporary file was left behind"


def _heatmap() -> object:
    from nndyn_gui.core.sweep.results import Heatmap

    rng = np.random.default_rng(1)
    nx, ny = 24, 18
    return Heatmap(
        "model.h",
        "train.learning_rate",
        "test_acc",
        "mean",
        [round(0.1 * i, 2) for i in range(nx)],
        [round(0.01 * i, 3) for i in range(ny)],
        rng.uniform(0.4, 1.0, size=(ny, nx)),
        np.ones((ny, nx), dtype=np.int64),
        np.ones((ny, nx), dtype=np.int64),
        [[[] for _ in range(nx)] for _ in range(ny)],
        {},
    )


@pytest.mark.parametrize("ext", ["svg", "pdf", "png"])
def test_sweep_picture_on_a_full_disk_keeps_the_old_picture(
    qapp: object, tmp_path: Path, ext: str
) -> None:
    from nndyn_gui.render.heatmap import write_heatmap

    hm = _heatmap()
    with _tmpfs(tmp_path / "full", "size=1m") as folder:
        target = folder / f"hm.{ext}"
        write_heatmap(target, hm, 1000, 700)  # type: ignore[arg-type]
        before = target.read_bytes()
        assert files.check_complete(target) == ""
        _fill_leaving(folder, FREE_BYTES // 3)
        with pytest.raises(OSError, match="disk full"):
            write_heatmap(target, hm, 3000, 2100)  # type: ignore[arg-type]
        assert target.read_bytes() == before
        assert _others(folder, target.name) == []


# ---------------------------------------------------------------------- the checks
def _truncations(data: bytes) -> list[bytes]:
    """Cuts through the content (a trailing newline is not content)."""
    n = len(data.rstrip())
    return [data[:k] for k in sorted({1, 8, n // 3, n // 2, n - 40, n - 12, n - 1}) if 0 < k < n]


@pytest.mark.parametrize("ext", [".svg", ".pdf", ".png", ".gif", ".mp4", ".nndyn", ".json"])
def test_every_truncation_of_a_good_file_is_caught(tmp_path: Path, ext: str) -> None:
    good = _good_file(tmp_path, ext)
    assert files.check_complete(good) == "", f"a whole {ext} was refused"
    for i, cut in enumerate(_truncations(good.read_bytes())):
        part = tmp_path / f"cut{i}{ext}"
        part.write_bytes(cut)
        assert files.check_complete(part) != "", f"{ext} cut at {len(cut)} bytes passed"


def _good_file(folder: Path, ext: str) -> Path:
    import imageio.v3 as iio

    path = folder / f"good{ext}"
    if ext == ".nndyn":
        save_run(tiny_run(), path)
    elif ext == ".json":
        path.write_text('{"a": [1, 2, {"b": "c"}], "d": 1.5}')
    elif ext == ".png":
        iio.imwrite(path, np.zeros((20, 30, 3), np.uint8), extension=".png")
    elif ext == ".gif":
        iio.imwrite(path, np.zeros((2, 20, 30, 3), np.uint8), extension=".gif")
    elif ext == ".mp4":
        from nndyn_gui.render.encode import Encoder

        enc = Encoder(path, 64, 48, fps=10, overwrite=True)
        for i in range(5):
            enc.put(np.full((48, 64, 3), 40 * i, np.uint8))
        enc.finish()
    else:
        from PySide6.QtGui import QGuiApplication

        from nndyn_gui.render.vector import write_vector

        _ = QGuiApplication.instance() or QGuiApplication([])
        write_vector(path, 200, 100, lambda p: p.drawLine(0, 0, 200, 100), "t")
    return path


# ---------------------------------------------------------------------- devices, modes
def test_saving_onto_a_symlink_to_a_fifo_never_replaces_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "run.nndyn"
    link.symlink_to(fifo)
    with pytest.raises(RunFileError, match="pipe"):
        save_run(tiny_run(), link)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    with pytest.raises(NotRegularError):
        AtomicWriter(tmp_path / "pipe")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "run.nndyn"]


def test_a_device_behind_a_symlink_is_never_replaced(tmp_path: Path) -> None:
    link = tmp_path / "out.png"
    link.symlink_to("/dev/null")
    with pytest.raises(NotRegularError, match="device"):
        files.write_bytes(link, b"x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert link.is_symlink()


def test_new_files_get_the_usual_mode_and_replaced_ones_keep_theirs(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        run = tmp_path / "run.nndyn"
        save_run(tiny_run(), run)
        pic = files.write_bytes(tmp_path / "a.json", b"{}")
        assert stat.S_IMODE(os.stat(run).st_mode) == 0o644
        assert stat.S_IMODE(os.stat(pic).st_mode) == 0o644
        os.chmod(run, 0o600)
        save_run(tiny_run(), run)
        assert stat.S_IMODE(os.stat(run).st_mode) == 0o600
        os.umask(0o077)
        assert stat.S_IMODE(os.stat(files.write_bytes(tmp_path / "b.json", b"{}")).st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_failed_fsync_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "run.nndyn"
    save_run(tiny_run(), target)
    before = target.read_bytes()

    def fsync(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", fsync)
    with pytest.raises(RunFileError, match="No space"):
        save_run(tiny_run(n_snaps=5), target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.nndyn"]


def test_incomplete_file_is_an_error_and_the_old_file_stays(tmp_path: Path) -> None:
    target = tmp_path / "pic.svg"
    target.write_text("<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    out = AtomicWriter(target, suffix=".svg")
    with out.open() as fh:
        fh.write(b"<svg xmlns='http://www.w3.org/2000/svg'><g><path d='M0")
    with pytest.raises(WriteError, match="incomplete"):
        out.commit()
    assert target.read_text().endswith("</svg>")
    assert os.listdir(tmp_path) == ["pic.svg"]


# ---------------------------------------------------------------------- reading
def test_reader_refuses_a_fifo_and_kernel_files_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    with pytest.raises(LimitError, match="not a regular file"):
        read_bounded(fifo, 1024, "CSV file")
    link = tmp_path / "k.json"
    link.symlink_to("/proc/self/status")
    with pytest.raises(LimitError, match="kernel file"):
        read_bounded(link, 1024, "config file")


def test_exported_csv_on_a_full_disk_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Draw mode's Export CSV… wrote in place: a full disk left half a file."""
    from nndyn_gui.core.datasets import save_csv

    target = tmp_path / "points.csv"
    save_csv(target, np.zeros((4, 2)), np.array([0, 1, 0, 1]))
    before = target.read_bytes()

    def fsync(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", fsync)
    with pytest.raises(OSError, match="No space"):
        save_csv(target, np.ones((400, 2)), np.arange(400) % 2)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["points.csv"]


def test_bounded_reader_refuses_kernel_files_that_stat_calls_regular(tmp_path: Path) -> None:
    """`/proc/kmsg` says "regular file" and blocks forever when read (issue 25, item 7)."""
    link = tmp_path / "spec.toml"
    link.symlink_to("/proc/self/status")
    for fn in (check_regular_file, read_bounded):
        with pytest.raises(LimitError, match="kernel file"):
            fn(link, 2**20, "sweep spec")
