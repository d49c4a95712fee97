"""`import nndyn_gui as nndyn`: the Python API a notebook uses, and the worked notebook in
docs/examples, executed here so that it never rots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import nndyn_gui as nndyn
from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.config import ConfigError
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io.presets import load_preset
from nndyn_gui.core.io.runfile import make_run

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "examples" / "nndyn-in-a-notebook.ipynb"
TINY = dict(data__n=120, model__width=2, model__depth=3, model__h=0.5, train__steps=60,
            train__snapshot_every=20, train__steps_per_call=20)  # fmt: skip


def test_train_figure_save_open_through_the_engine(tmp_path: Path) -> None:
    run = nndyn.train("resnet-w2-ring", quiet=True, **TINY)
    assert run.status == "finished" and run.steps == [0, 20, 40, 60]
    assert run.title == narrator.run_title(run.config)
    assert "edited from resnet-w2-ring" in run.title and "step 60" in repr(run)
    fig = run.figure(layer=1)
    assert len(fig.frames) == 4 and fig.layout.sliders[0].active == 1
    assert fig.layout.title.text == run.title
    again = nndyn.open(run.save(tmp_path / "r.nndyn"))
    assert again.steps == run.steps and again.config == run.config
    assert again.write_html(tmp_path / "r.html") == (tmp_path / "r.html").stat().st_size


def test_train_says_what_is_wrong_with_a_field_or_a_name() -> None:
    with pytest.raises(ConfigError, match=r"model\.widht"):
        nndyn.train("resnet-w2-ring", model__widht=2)
    with pytest.raises(ValueError, match="neither a preset"):
        nndyn.train("no-such-preset")
    with pytest.raises(ConfigError):
        nndyn.train("resnet-w2-ring", model__width=0)


def test_a_run_not_from_a_preset_has_no_claims_to_verify() -> None:
    cfg = load_preset("resnet-w2-ring")
    cfg.title = "my own"
    run = nndyn.FlowRun(make_run(cfg, make_dataset(cfg.data)))
    with pytest.raises(ValueError, match="not from a preset"):
        run.verify()


@pytest.mark.slow
def test_the_worked_notebook_runs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    try:
        client = nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 1  # the figure, inline
    text = "".join(o.get("text", "") for o in outputs)
    assert "52 frames, one per layer" in text and "resnet-w3-ring" in text and "MB" in text
