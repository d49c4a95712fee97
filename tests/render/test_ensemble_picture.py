"""The Ensemble picture: the map's numbers at the input, one line per member, a PNG
that shows them (painted without a window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.render.ensemble_map import ensemble_map, iso_segments
from nndyn_gui.render.ensemble_picture import (
    MEMBER_COLOURS,
    EnsemblePicture,
    layout,
    render_image,
    write_png,
)


def _cfg(**kw: Any) -> RunConfig:
    cfg = RunConfig()
    cfg.data.n = 200
    cfg.model.width, cfg.model.depth, cfg.model.h = 2, 3, 1.0
    for key, value in kw.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return cfg.validate()


def test_a_level_set_is_traced_where_it_lies() -> None:
    xs = np.linspace(-1, 1, 81)
    gx, gy = np.meshgrid(xs, xs)
    seg = iso_segments(np.hypot(gx, gy), xs, xs, 0.5)
    r = np.hypot(seg[..., 0], seg[..., 1])
    assert np.abs(r - 0.5).max() < 2e-3
    assert abs(np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1).sum() - np.pi) < 0.01


def test_agreement_is_the_share_of_members_voting_class_1() -> None:
    cfg = _cfg()
    ds = make_dataset(cfg.data)
    w = [initial_weights(cfg.model, s) for s in (0, 1, 2)]
    same = ensemble_map([cfg, cfg], [w[0], w[0]], ds, res=40)
    assert set(np.unique(same.agreement)) <= {0.0, 1.0}
    assert np.array_equal(same.boundaries[0], same.boundaries[1])
    mixed = ensemble_map([cfg] * 3, w, ds, res=40)
    assert set(np.unique(mixed.agreement)) <= {0.0, 1 / 3, 2 / 3, 1.0}
    assert mixed.members == 3
    x0, x1, y0, y1 = mixed.extent
    assert x0 < ds.x_train[:, 0].min() and x1 > ds.x_train[:, 0].max()
    assert y0 < ds.x_train[:, 1].min() and y1 > ds.x_train[:, 1].max()


def test_k_classes_agree_on_a_majority() -> None:
    cfg = _cfg(data__name="spiral", data__classes=3)
    ds = make_dataset(cfg.data)
    w = [initial_weights(cfg.model, s, classes=3) for s in (0, 1)]
    emap = ensemble_map([cfg, cfg], w, ds, res=40)
    assert emap.classes == 3 and emap.agreement.min() >= 0.5 and emap.agreement.max() == 1.0
    assert set(np.unique(emap.majority)) <= {0, 1, 2}
    x0, x1, _y0, _y1 = emap.extent
    cell = (x1 - x0) / 40
    for seg in emap.boundaries:  # the borders of the regions: lines, not pixel stairs
        d = np.abs(seg[:, 1] - seg[:, 0])
        assert len(seg) > 20 and np.hypot(d[:, 0], d[:, 1]).max() <= 1.5 * cell
        assert ((d[:, 0] > 1e-9) & (d[:, 1] > 1e-9)).mean() > 0.5


def _near(img: QImage, rect: QRectF, rgb: tuple[int, int, int], tol: int = 30) -> int:
    """Pixels of `rect` within `tol` of the colour."""
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.width(), 4)
    x0, y0 = int(rect.left()) + 2, int(rect.top()) + 2
    x1, y1 = int(rect.right()) - 2, int(rect.bottom()) - 2
    bgr = a[y0:y1, x0:x1, :3].astype(int)  # ARGB32 is B, G, R, A in memory
    want = np.array(rgb[::-1])
    return int((np.abs(bgr - want).max(axis=-1) <= tol).sum())


def test_the_png_shows_every_members_line_and_its_words(qapp: Any, tmp_path: Path) -> None:
    cfg = _cfg()
    ds = make_dataset(cfg.data)
    w = [initial_weights(cfg.model, s) for s in (0, 1, 2)]
    emap = ensemble_map([cfg] * 3, w, ds)
    assert all(len(b) for b in emap.boundaries)
    pic = EnsemblePicture(emap, ["seed 0", "seed 1", "seed 2"], ds, "Title", "A caption.")
    img = render_image(pic, 900, 640)
    img = img.convertToFormat(QImage.Format.Format_ARGB32)
    box = layout(QRectF(0, 0, 900, 640), pic, text=True).map
    for i in range(3):
        assert _near(img, box, MEMBER_COLOURS[i]) > 100, f"member {i}'s line is not on the map"
    out = write_png(tmp_path / "ens", pic, 900, 640)
    assert out.suffix == ".png" and out.stat().st_size > 10_000
    back = QImage(str(out))
    assert (back.width(), back.height()) == (900, 640)
