"""Writers, atomic output and the encoder thread: what a user finds on disk afterwards."""

from __future__ import annotations

import errno
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from nndyn_gui.render import encode
from nndyn_gui.render.encode import (
    AtomicFile,
    Encoder,
    ExportError,
    Mp4Writer,
    PngWriter,
    even_size,
    pad_to,
    quality_to_crf,
)


def _frames(n: int, w: int = 64, h: int = 48, alpha: int = 255) -> list[np.ndarray]:
    out = []
    for i in range(n):
        f = np.zeros((h, w, 4), dtype=np.uint8)
        f[..., 3] = alpha
        f[:, : (i * 5) % w + 1, 0] = 220  # a red bar that grows: frames differ
        f[h // 2 :, :, 2] = 200
        out.append(f)
    return out


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name)


def test_even_size_and_padding_keep_the_picture():
    assert even_size(1279, 719) == (1280, 720)
    assert even_size(1280, 720) == (1280, 720)
    f = np.full((3, 5, 4), 7, dtype=np.uint8)
    p = pad_to(f, 6, 4, (255, 255, 255, 255))
    assert p.shape == (4, 6, 4)
    assert (p[:3, :5] == 7).all() and (p[3] == 255).all() and (p[:, 5] == 255).all()


def test_higher_quality_means_lower_crf():
    crfs = [quality_to_crf(q) for q in range(1, 11)]
    assert crfs == sorted(crfs, reverse=True) and crfs[0] > crfs[-1]


def test_mp4_has_every_frame_at_the_exact_size(tmp_path):
    target = tmp_path / "clip.mp4"
    enc = Encoder(target, 64, 48, fps=12)
    for f in _frames(13):
        enc.put(f)
    assert enc.finish() == target
    frames = iio.imread(target, index=None)
    assert frames.shape == (13, 48, 64, 3)
    assert not np.array_equal(frames[0], frames[5])
    assert _leftovers(tmp_path) == []


def test_mp4_writer_refuses_odd_sizes_instead_of_rescaling(tmp_path):
    with pytest.raises(ExportError, match="even"):
        Mp4Writer(tmp_path / "x.mp4", 63, 48, 10)


def test_gif_loops_forever_and_keeps_timing(tmp_path):
    target = tmp_path / "a.gif"
    enc = Encoder(target, 64, 48, fps=10)
    for f in _frames(6):
        enc.put(f)
    enc.finish()
    meta = iio.immeta(target, index=None)
    assert meta.get("loop") == 0
    assert iio.imread(target, index=None).shape[0] == 6
    assert iio.immeta(target, index=0)["duration"] == 100


def test_png_keeps_alpha_only_when_transparent(tmp_path):
    opaque, clear = tmp_path / "o.png", tmp_path / "t.png"
    for path, alpha in ((opaque, 255), (clear, 0)):
        enc = Encoder(path, 64, 48, fps=1)
        enc.put(_frames(1, alpha=alpha)[0])
        enc.finish()
    assert iio.imread(opaque).shape == (48, 64, 3)
    img = iio.imread(clear)
    assert img.shape == (48, 64, 4) and (img[..., 3] == 0).all()


def test_existing_file_is_kept_unless_overwrite(tmp_path):
    target = tmp_path / "talk.mp4"
    target.write_bytes(b"precious")
    with pytest.raises(ExportError, match="file exists; use --force"):
        Encoder(target, 64, 48, fps=10)
    assert target.read_bytes() == b"precious"
    enc = Encoder(target, 64, 48, fps=10, overwrite=True)
    for f in _frames(3):
        enc.put(f)
    enc.finish()
    assert iio.imread(target, index=None).shape[0] == 3
    assert _leftovers(tmp_path) == []


def test_file_appearing_during_export_is_not_clobbered(tmp_path):
    target = tmp_path / "x.png"
    out = AtomicFile(target)
    out.path.write_bytes(b"new")
    target.write_bytes(b"someone else's")
    with pytest.raises(ExportError, match="file exists"):
        out.commit()
    assert target.read_bytes() == b"someone else's"
    assert _leftovers(tmp_path) == []


def test_temp_file_keeps_the_real_extension_and_is_hidden(tmp_path):
    out = AtomicFile(tmp_path / "talk.mp4")
    assert out.path.name.startswith(".talk.partial-") and out.path.suffix == ".mp4"
    assert out.path.parent == tmp_path
    out.discard()
    assert _leftovers(tmp_path) == []


def test_disk_full_mid_encode_is_reported_and_leaves_nothing(tmp_path, monkeypatch):
    real_write = Mp4Writer.write

    def failing(self, frame):
        if self.frames >= 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, frame)

    monkeypatch.setattr(Mp4Writer, "write", failing)
    target = tmp_path / "full.mp4"
    enc = Encoder(target, 64, 48, fps=10)
    with pytest.raises(ExportError, match="disk full"):
        for f in _frames(40):
            enc.put(f)
        enc.finish()
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_ffmpeg_refusing_to_start_is_an_export_error(tmp_path, monkeypatch):
    monkeypatch.setattr(encode, "MP4_PRESET", "no-such-preset")
    target = tmp_path / "bad.mp4"
    enc = Encoder(target, 64, 48, fps=10)
    with pytest.raises(ExportError, match="encoding failed"):
        for f in _frames(30):
            enc.put(f)
        enc.finish()
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_a_bug_in_a_writer_is_an_export_error_with_its_traceback_in_the_log(
    tmp_path, monkeypatch, caplog
):
    def broken(self, frame):
        raise TypeError("a bug")

    monkeypatch.setattr(PngWriter, "write", broken)
    enc = Encoder(tmp_path / "a.png", 64, 48, fps=1)
    with (
        caplog.at_level(logging.ERROR, logger="nndyn_gui.render.encode"),
        pytest.raises(ExportError, match="encoding failed: TypeError: a bug"),
    ):
        enc.put(_frames(1)[0])
        enc.finish()
    assert any(r.exc_info and r.exc_info[0] is TypeError for r in caplog.records)
    assert os.listdir(tmp_path) == []


def test_a_private_umask_stays_private(tmp_path):
    """Importing the exporter leaves the umask alone (no set-and-restore race with other
    threads' files), and an exported file under umask 077 is the user's alone."""
    probe = (
        "import os\n"
        "os.umask(0o077)\n"
        "calls = []\n"
        "real = os.umask\n"
        "os.umask = lambda m: calls.append(m) or real(m)\n"
        "import nndyn_gui.render.export, nndyn_gui.render.encode\n"
        "print(calls)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    old = os.umask(0o077)
    try:
        enc = Encoder(tmp_path / "a.png", 64, 48, fps=1)
        enc.put(_frames(1)[0])
        path = enc.finish()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_abort_removes_the_temp_file(tmp_path):
    enc = Encoder(tmp_path / "a.mp4", 64, 48, fps=10)
    for f in _frames(5):
        enc.put(f)
    enc.abort()
    enc.abort()  # twice is fine
    assert os.listdir(tmp_path) == []


def test_unwritable_folder_is_an_export_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot write"):
        Encoder(blocker / "a.mp4", 64, 48, fps=10)


def test_a_missing_ffmpeg_is_named_in_the_error(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg-here"))
    target = tmp_path / "clip.mp4"
    enc = Encoder(target, 64, 48, fps=10)
    with pytest.raises(ExportError, match=r"cannot start ffmpeg.*no-ffmpeg-here"):
        for f in _frames(3):
            enc.put(f)
        enc.finish()
    assert _leftovers(tmp_path) == []


def test_mp4_frames_are_not_rescaled_at_sizes_off_the_16_grid(tmp_path):
    """66x50 is not a multiple of 16: a one-pixel line must stay where it was drawn."""
    target = tmp_path / "line.mp4"
    frame = np.full((50, 66, 3), 255, np.uint8)
    frame[:, 33] = 0
    enc = Encoder(target, 66, 50, fps=10)
    for _ in range(3):
        enc.put(frame)
    enc.finish()
    got = iio.imread(target, index=0)
    assert got.shape == (50, 66, 3)
    column = got[10:40].mean(axis=(0, 2))
    assert int(np.argmin(column)) == 33 and column[33] < 80 and column[30] > 200
