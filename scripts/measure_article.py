r"""Measure what docs/science.md §14 says beyond the presets' claims (JSON).

    .venv/bin/python scripts/measure_article.py --seeds 0-7 \
        --out docs/measured/article-extra-0-7.json

Two measurements, each over the named seed offsets:

- the turnpike preset's displacement profile (mean step per block over the training
  points) with and without its transport cost, binned into tenths of the blocks;
- the two seeds: `resnet-w2-nested-rings` trained with one order seed and the init seed
  varied, and with one init seed and the order seed varied, and its dense accuracy and
  the last-layer positions of the test points (spread relative to the first run's).

scripts/update_article_sections.py writes the numbers into docs/science.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("measure_article")

TURNPIKE = "resnet-w3-ring-turnpike"
SEEDS_PRESET = "resnet-w2-nested-rings"
BINS = 10


def _measure(cfg, metrics: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from nndyn_gui.core.analysis.claim_runs import train_with_tensorflow
    from nndyn_gui.core.analysis.metrics import METRICS, Measured
    from nndyn_gui.core.datasets import make_dataset

    ds = make_dataset(cfg.data)
    weights, tr, te, status = train_with_tensorflow(cfg, ds)
    m = Measured(cfg, ds, weights, tr, te, status)
    return m, {name: float(METRICS[name].fn(m)) for name in metrics}


def profile(seeds: list[int]) -> dict[str, object]:
    """Binned displacement profiles of the turnpike preset and its no-transport twin."""
    from nndyn_gui.core.io.presets import load_preset

    base = load_preset(TURNPIKE)
    out: dict[str, object] = {"preset": TURNPIKE, "bins": BINS, "runs": {}}
    for label, transport in (("transport", base.train.transport), ("no transport", 0.0)):
        rows = []
        for s in seeds:
            cfg = base.with_set(f"train.seed={base.train.seed + s}")
            cfg = cfg.with_set(f"train.transport={transport}")
            m, values = _measure(cfg, ("middle_share", "transport"))
            disp = np.asarray(m.diagnostics.displacement, dtype=np.float64)
            tenths = [float(p.sum()) for p in np.array_split(disp, BINS)]
            total = sum(tenths)
            rows.append({"seed": s, "tenths": [t / total for t in tenths], **values})
            log.info("profile %s seed %d: middle share %.3f", label, s, values["middle_share"])
        out["runs"][label] = rows  # type: ignore[index]
    return out


def two_seeds(seeds: list[int]) -> dict[str, object]:
    """Vary one seed at a time: dense accuracy and last-layer spread per family."""
    from nndyn_gui.core.io.presets import load_preset

    base = load_preset(SEEDS_PRESET)
    fixed = base.train.seed
    out: dict[str, object] = {"preset": SEEDS_PRESET, "fixed_seed": fixed, "families": {}}
    for family in ("init varies", "order varies"):
        acc, last = [], []
        for s in seeds:
            init, order = (fixed + s, fixed) if family == "init varies" else (fixed, fixed + s)
            cfg = base.with_set(f"train.seed={init}").with_set(f"train.order_seed={order}")
            m, values = _measure(cfg, ("dense_accuracy",))
            acc.append(values["dense_accuracy"])
            last.append(m.trajectory[-1])
            log.info("%s seed %d: dense %.4f", family, s, values["dense_accuracy"])
        ref = last[0]
        spread = float(np.linalg.norm(ref - ref.mean(axis=0), axis=1).mean())
        moved = [float(np.linalg.norm(x - ref, axis=1).mean() / spread) for x in last[1:]]
        out["families"][family] = {  # type: ignore[index]
            "seeds": seeds,
            "dense_accuracy": acc,
            "last_layer_difference": moved,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nndyn_gui.cli.verify import verify_seeds

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0-7", help="seed offsets, e.g. 0-7")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    seeds = verify_seeds(args.seeds)
    t0 = time.monotonic()
    doc = {"seeds": seeds, "profile": profile(seeds), "two_seeds": two_seeds(seeds)}
    doc["seconds"] = round(time.monotonic() - t0, 1)

    def clean(o: object) -> object:
        if isinstance(o, float):
            return o if math.isfinite(o) else None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o

    args.out.write_text(json.dumps(clean(doc), indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s (%.0f s)", args.out, doc["seconds"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
