"""nndyn from Python and in a notebook: train, open, look, save, verify.

    import nndyn_gui as nndyn
    run = nndyn.train("resnet-w3-ring", model__width=2)   # or nndyn.train(config)
    run.figure(layer=10)          # the interactive Plotly figure, inline in Jupyter
    run.save("w2.nndyn"); run.write_html("w2.html")
    run.verify()                  # the preset's claims, measured on this run

Why it looks like this: the same engine as the window and `nndyn train` (TensorFlow in
the engine's worker process, core/engine/session.py; one warm worker is kept between
calls and ended at exit), the same run files (core/io/runfile.py), the same titles
(core/analysis/narrator.py), the same claims (core/analysis/claims.py) and the same
picture as the web page (render/web). No Qt: a notebook needs no display.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nndyn_gui.core.analysis import claim_results, claim_runs, claim_spec, claims, metrics, narrator
from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.io import runfile
from nndyn_gui.core.io.presets import preset_names, start_config
from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot

if TYPE_CHECKING:
    import plotly.graph_objects as go

log = logging.getLogger(__name__)

__all__ = ["FlowRun", "TrainingError", "Verification", "open", "presets", "train"]


class TrainingError(RuntimeError):
    """Training raised or its worker died; `run` holds the snapshots received so far."""

    def __init__(self, message: str, run: FlowRun) -> None:
        super().__init__(message)
        self.run = run


@dataclasses.dataclass
class Verification:
    """The claims of a run's preset, checked on the run (and on more seeds if asked).

    `results`: one core.analysis.claim_results.CheckResult per claim; `note`: what the reader
    must know to read them (an edited preset). Printed, it is `nndyn verify`'s table.
    """

    preset: str
    seeds: list[int]
    results: list[claim_results.CheckResult]
    note: str = ""

    @property
    def all_hold(self) -> bool:
        return all(r.all_hold for r in self.results)

    def __str__(self) -> str:
        text = claim_results.format_text(self.results)
        return f"{text}\n{self.note}" if self.note else text

    def _repr_markdown_(self) -> str:
        text = claim_results.format_markdown(self.results)
        return f"{text}\n\n{self.note}" if self.note else text


class FlowRun:
    """A run: its config, data and snapshots (`core.types.Run`), and what to do with it."""

    def __init__(self, run: Run, path: str | os.PathLike[str] | None = None) -> None:
        self.run = run
        self.path = None if path is None else Path(path)

    # ------------------------------------------------------------------ what it is
    @property
    def config(self) -> RunConfig:
        return self.run.config

    @property
    def dataset(self) -> Dataset:
        return self.run.dataset

    @property
    def snapshots(self) -> list[Snapshot]:
        return self.run.snapshots

    @property
    def weights(self) -> NetWeights | None:
        """The last snapshot's weights (None before training)."""
        return self.run.weights

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def title(self) -> str:
        """The run's title, as the window and every export say it."""
        return narrator.run_title(self.config)

    @property
    def steps(self) -> list[int]:
        """The training step of each snapshot."""
        return [s.step for s in self.snapshots]

    def __repr__(self) -> str:
        last = self.snapshots[-1] if self.snapshots else None
        shown = "no snapshots" if last is None else _step_words(last)
        return (
            f"<nndyn run {self.title!r}: {self.status}, {len(self.snapshots)} snapshots, {shown}>"
        )

    # ------------------------------------------------------------------ pictures
    def figure(
        self,
        layer: int | None = None,
        snapshot: int = -1,
        *,
        points: int = 1000,
        grid: int = 20,
        dims: int = 0,
        background: str = "white",
    ) -> go.Figure:
        """The interactive figure of one snapshot: points and grid at every layer, a layer
        slider and Play, 3-D (rotate, zoom) for nets of width >= 3 unless dims=2.

        `layer`: shown first (default the output); `snapshot`: an index into
        `snapshots` (default the last). The web page (`write_html`) adds a slider over
        training. A plotly Figure: Jupyter shows it inline, `fig.show()` opens it.
        """
        from nndyn_gui.render.web import WebOptions, build_figure, collect

        snap = self.snapshots[snapshot] if self.snapshots else None
        if snap is None:
            raise ValueError("this run has no snapshots to show (train it first)")
        one = dataclasses.replace(self.run, snapshots=[snap])
        opts = WebOptions(snapshots=1, points=points, grid=grid, dims=dims, background=background)
        return build_figure(collect(one, opts), layer)

    def write_html(self, path: str | os.PathLike[str], **options: Any) -> int:
        """The self-contained web page (as `nndyn render --kind html`); returns its bytes.

        `options`: render.web.WebOptions' fields (snapshots=11, layers=0, points=1000,
        grid=20, dims=0, background="white", title="").
        """
        from nndyn_gui.render.web import WebOptions, write_html

        return write_html(self.run, path, WebOptions(**options))

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the run file (.nndyn) the window and `nndyn render` open."""
        runfile.save_run(self.run, path)
        self.path = Path(path)
        return self.path

    # ------------------------------------------------------------------ claims
    def verify(self, seeds: Sequence[int] = (0,), jobs: int = 1) -> Verification:
        """Check the claims of the run's preset on this run (seed offset 0 is the run
        itself, its twins trained like it) and on seed offsets `seeds` (train.seed +
        offset, trained in the engine's worker). `nndyn verify --preset NAME` checks the
        preset as shipped over 8 seeds; this checks *this* run's config, edits and all.
        """
        name = narrator.preset_name(self.config)
        if not name:
            raise ValueError(
                "this run is not from a preset, so it makes no claims to check "
                "(train one with nndyn.train('PRESET', ...))"
            )
        pc = claims.load_claims(name)
        if not pc.checks:
            raise ValueError(f"preset {name} makes no claims to check")
        offsets = [int(s) for s in seeds]
        per_seed = []
        for offset in offsets:
            runs: dict[str, metrics.Measured | claim_runs.RunSummary] = {}
            for role, cfg in claims.run_configs(pc, offset, self.config).items():
                if role == claim_spec.MAIN and offset == 0 and self.snapshots:
                    runs[role] = self._measured()
                else:
                    ds = _make_dataset(cfg)
                    weights, tr, te, status = _train_final(cfg, ds)
                    runs[role] = metrics.Measured(cfg, ds, weights, tr, te, status)
            per_seed.append(claims.evaluate(pc, runs))
        edits = narrator.edit_summary(self.config)
        note = (
            f"This run is edited from preset {name} ({edits}); the claims were written "
            "for the preset as shipped."
            if edits
            else ""
        )
        results = claims._collect(pc, offsets, per_seed)
        return Verification(name, offsets, results, note)

    def _measured(self) -> metrics.Measured:
        last = self.snapshots[-1]
        return metrics.Measured(
            self.config,
            self.dataset,
            last.weights,
            float(last.train_acc),
            float(last.test_acc),
            self.status,
        )


# ---------------------------------------------------------------------- front doors
def presets() -> list[str]:
    """The preset names `train` takes (`nndyn presets` lists them with their words)."""
    return preset_names()


def open(path: str | os.PathLike[str]) -> FlowRun:
    """Read a run file (.nndyn) saved by the window, `nndyn train --out` or `save`."""
    return FlowRun(runfile.load_run(path), path)


def train(
    config: str | os.PathLike[str] | RunConfig | None = None,
    /,
    *,
    quiet: bool = False,
    **fields: Any,
) -> FlowRun:
    """Train a preset (by name), a config file, a RunConfig or the defaults, with
    `fields` changed (`model__width=2` sets model.width; `title="..."`), in the engine's
    worker process, as `nndyn train` does (the same result, digit for digit).

    A progress bar goes to stderr unless `quiet`. A diverged run is returned (its status
    says so, with a warning); a training that raised raises TrainingError.
    """
    cfg = _config(config, fields)
    dataset = _make_dataset(cfg)
    result = _train(cfg, dataset, quiet, [])
    run = FlowRun(runfile.make_run(cfg, dataset, result))
    if result.status == "diverged":
        log.warning("training diverged: %s", result.message)
    return run


def _config(config: str | os.PathLike[str] | RunConfig | None, fields: dict[str, Any]) -> RunConfig:
    if isinstance(config, RunConfig):
        cfg = config.copy().validate()
    elif config is None:
        cfg = start_config()
    elif isinstance(config, str) and config in preset_names():
        cfg = start_config(preset=config)
    elif Path(config).exists():
        cfg = start_config(config_file=config)
    else:
        raise ValueError(f"{config!r} is neither a preset ({', '.join(preset_names())}) nor a file")
    if not fields:
        return cfg
    d = cfg.to_dict()
    for key, value in fields.items():
        if key == "title":
            d["title"] = value
            continue
        section, _, name = key.partition("__")
        if section not in ("data", "model", "train") or not name or name not in d[section]:
            raise ConfigError(key.replace("__", "."), "unknown field (write e.g. model__width=2)")
        d[section][name] = value
    return RunConfig.from_dict(d)


def _make_dataset(cfg: RunConfig) -> Dataset:
    from nndyn_gui.core.datasets import make_dataset

    return make_dataset(cfg.data)


def _train(cfg: RunConfig, dataset: Dataset, quiet: bool, into: list[Snapshot]) -> Any:
    """The engine's blocking train with a progress bar; one warm worker kept for the next."""
    from tqdm import tqdm

    from nndyn_gui.core.engine.session import EngineError, TrainingSession
    from nndyn_gui.core.engine.session import train as engine_train

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tqdm.monitor_interval = 0
    bar = tqdm(total=cfg.train.steps, unit="step", disable=quiet, file=sys.stderr)
    session = TrainingSession()
    try:
        return engine_train(
            cfg,
            dataset,
            session=session,
            on_snapshot=into.append,
            on_progress=lambda step, *_: bar.update(max(0, int(step) - bar.n)),
        )
    except EngineError as e:
        partial = runfile.make_run(cfg, dataset, e.partial) if e.partial else Run(cfg, dataset)
        raise TrainingError(f"training failed: {e}", FlowRun(partial)) from None
    finally:
        bar.close()
        session.shutdown(keep_warm=True)


def _train_final(cfg: RunConfig, dataset: Dataset) -> tuple[NetWeights, float, float, str]:
    """core.analysis.claims' trainer, through the engine (no TensorFlow in this process)."""
    result = _train(cfg, dataset, quiet=True, into=[])
    final = result.final
    return final.weights, float(final.train_acc), float(final.test_acc), result.status


def _step_words(snap: Snapshot) -> str:
    if not narrator.is_trained(snap):
        return "untrained (step 0)"
    return f"step {snap.step:,}, test {narrator.fmt_pct(snap.test_acc)}"


def _end_worker() -> None:
    from nndyn_gui.core.engine.session import shutdown_spares

    shutdown_spares()


atexit.register(_end_worker)
