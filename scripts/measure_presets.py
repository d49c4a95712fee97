r"""Train every preset and every twin its claims compare with, over named seed offsets,
and store every metric of `nndyn verify` for every run (JSON).

    .venv/bin/python scripts/measure_presets.py --seeds 0-7 --jobs 2 \
        --out docs/measured/presets-0-7.json

This is the measurement the presets' claims and docs/science.md are written from: the
statistics (median, range, "in n of N seeds") that scripts/update_claims_table.py puts in
the docs are computed from these files, and the seeds they cover are named there. A
run that two presets share (a twin that is another preset; init-a at offset s is
resnet-w3-ring at offset s + 1) is trained once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

log = logging.getLogger("measure_presets")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nndyn_gui.cli.verify import verify_seeds
    from nndyn_gui.core.analysis.claim_runs import run_plan
    from nndyn_gui.core.analysis.claims import plan
    from nndyn_gui.core.analysis.metrics import METRICS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0-7", help="seed offsets, e.g. 0-7 or 40,41")
    ap.add_argument("--preset", action="append", default=[], help="only this preset")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    seeds = verify_seeds(args.seeds)
    p = plan(args.preset or None, seeds, metrics=list(METRICS))
    t0 = time.monotonic()

    def progress(label: str, done: int, total: int) -> None:
        log.info("trained %s (%d/%d, %.0f s)", label, done, total, time.monotonic() - t0)

    done = run_plan(p, jobs=args.jobs, on_done=progress)

    def clean(v: float) -> float | None:
        return v if math.isfinite(v) else None

    def short(key: str) -> str:  # runs are named by a hash of their config
        return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]

    doc = {
        "seeds": seeds,
        "seconds": round(time.monotonic() - t0, 1),
        "runs": {
            short(key): {
                "title": p.configs[key].title,
                "train_seed": p.configs[key].train.seed,
                "config": p.configs[key].to_dict(),
                "status": s.status,
                "values": {m: clean(v) for m, v in sorted(s.values.items())},
            }
            for key, s in done.items()
        },
        "uses": {
            preset: {
                str(seed): {run: short(key) for run, key in p.uses[(preset, seed)].items()}
                for seed in seeds
            }
            for preset in p.specs
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log.info("wrote %s (%d runs, %.0f s)", args.out, len(done), doc["seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
