"""`nndyn verify`: train the presets over several seeds and check the claims their
descriptions make (core/analysis/claims.py; their format: claim_spec.py); exit 0 only
if every claim holds."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from nndyn_gui.cli.common import EXIT_DIVERGED, EXIT_OK, CliError
from nndyn_gui.core.io.presets import list_presets

VERIFY_EPILOG = """\
Each preset carries the claims its description makes as predicates ("claims" in its
JSON; the format: nndyn_gui/core/analysis/claim_spec.py). verify trains the preset (and
the twins a claim compares with) once per seed offset: train.seed = the preset's seed +
offset; a run that is the same for two presets or two offsets (a twin that is another
preset, init-a at offset s = resnet-w3-ring at s + 1) is trained once. It prints one row
per claim with the value measured for each seed, a ✗ where it fails, and exit status 0
only if every claim holds (1 otherwise, 2 for bad input): on every seed, or, for a claim
that names a share of the seeds ("on at least half of the seeds"), on that share. The
claims were written over offsets 0-7 (the default); check them on others, e.g.
--seeds 1000-1007.
"""


#: = core.analysis.claims.DEFAULT_SEEDS (not imported here: that module loads numpy and the core)
DEFAULT_VERIFY_SEEDS = tuple(range(8))


def add_verify_parser(sub: Any) -> None:
    v = sub.add_parser(
        "verify",
        help="train the presets and check the claims their descriptions make",
        description="Check every preset's claims over several seeds.",
        epilog=VERIFY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument(
        "--preset",
        dest="presets",
        action="append",
        default=[],
        metavar="NAME",
        help="only this preset (repeatable; default: all)",
    )
    v.add_argument(
        "--seeds",
        default=",".join(map(str, DEFAULT_VERIFY_SEEDS)),
        metavar="S,S,...",
        help="seed offsets (default 0,...,7; a range like 40-47 also works)",
    )
    v.add_argument("--jobs", type=int, default=1, metavar="N", help="processes (default 1)")
    out = v.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the results as JSON")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")


def verify_seeds(text: str) -> list[int]:
    """'0,1,2' or '40-47' (or both: '0-3,9') as a list of distinct offsets, in order."""
    seeds: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            lo, dash, hi = part.partition("-")
            span = range(int(lo), int(hi) + 1) if dash else [int(part)]
            seeds.extend(s for s in span if s not in seeds)
    except ValueError:
        raise CliError(f"--seeds {text}: expected integers like 0,1,2 or 40-47") from None
    if not seeds or min(seeds) < 0:
        raise CliError(f"--seeds {text}: expected non-negative integers like 0,1,2 or 40-47")
    return seeds


def verify_main(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nndyn_gui.core.analysis.claim_results import format_markdown, format_text
    from nndyn_gui.core.analysis.claim_spec import ClaimError
    from nndyn_gui.core.analysis.claims import verify

    seeds = verify_seeds(str(args.seeds))
    if args.jobs < 1:
        raise CliError("--jobs must be at least 1")
    names = [p.name for p in list_presets()]
    for name in args.presets:
        if name not in names:
            raise CliError(f"unknown preset {name!r}; available: {', '.join(names)}")

    def progress(label: str, done: int, total: int) -> None:
        print(f"nndyn: trained {label} ({done}/{total})", file=sys.stderr)

    try:
        results = verify(args.presets or None, seeds, jobs=args.jobs, on_done=progress)
    except ClaimError as e:
        raise CliError(str(e)) from None
    ok = all(r.all_hold for r in results)
    if args.json:
        doc = {"seeds": seeds, "all_hold": ok, "claims": [r.to_dict() for r in results]}
        print(json.dumps(doc, indent=2, allow_nan=False))
    elif args.markdown:
        print(format_markdown(results))
    else:
        print(format_text(results))
        failed = sum(not r.all_hold for r in results)
        print(
            f"\n{len(results) - failed} of {len(results)} claims hold (on every seed, or on "
            "the share of the seeds the claim names)."
        )
    return EXIT_OK if ok else EXIT_DIVERGED
