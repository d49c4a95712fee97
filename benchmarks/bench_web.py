"""The web page's layer slider (issue 24): redraw time per move in headless Chromium, and
the page sizes, for the default resnet-w3-ring (3-D) and resnet-w2-ring (2-D) runs.

The runs are the presets as shipped (51 blocks, 1,000 points, 20 x 20 grid, 11 of 101
snapshots), trained with `nndyn train` unless `--run3`/`--run2` give .nndyn files. Each
page is written by `nndyn render RUN --kind html` of a source tree (this one; `--before
DIR` also writes them with DIR's code, the baseline, measured alternately in the same run)
and opened in Debian's chromium through Playwright (headless, software WebGL through
SwiftShader, offline). Two ways of moving the slider, `--moves` positions each:

- `click`: a mouse click on the layer slider's rail, as a reader does, timed in the page
  from the mousedown (capture phase, before Plotly sees it) until the new layer is drawn;
- `api`: `window.nndyn.setLayer(l)` (the layer, then the slider set to it) until drawn.

"Drawn" (`drawn`) is the animation frame after the page has shown the layer, plus a
1-pixel `readPixels` of the 3-D scene's WebGL canvas: WebGL only queues the drawing, and
in software WebGL (SwiftShader, on the CPU) the queue is most of the cost; reading a pixel
waits until the picture is really there. `next_frame` is one animation frame later.
`browser_cpu_ms_per_click` is the CPU time Chromium's processes used per click (with
the 50 ms pause after each): less swayed by other jobs on a shared machine than the
wall clock.

Every page is opened `--repeats` times (a fresh tab each, the pages in turn); the JSON
gives each repeat's median and the largest move, the median of the medians against the
target of 100 ms, the page sizes against 8 MB, and the 3-D/2-D ratio (the 2-D page,
measured in the same run, is the baseline). `pass`: the 3-D page (issue 24's budget);
`pass_2d` says the same of the 2-D page. `--shot DIR` saves a screenshot of each page
after its last move.

    .venv/bin/python benchmarks/bench_web.py [--before /work/main] [--shot /tmp/web3d]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 100.0
BUDGET_BYTES = 8_000_000
CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
VIEW = {"width": 1280, "height": 800}
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

# The redraw is done when the frame after Plotly's restyle has been drawn: one animation
# frame (plotly's WebGL scene draws in its own frame callback, which runs before ours),
# then a 1-pixel readPixels of the 3-D scene's WebGL canvas, which waits until the GPU (SwiftShader:
# the CPU) has really drawn it. `next` is one more animation frame: when the browser is
# ready for the frame after.
DONE = """(t0) => new Promise(resolve => requestAnimationFrame(() => {
    const scene = document.getElementById('nndyn-flow')._fullLayout.scene;
    if (scene) {
      const gl = scene._scene.glplot.gl;
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    }
    const drawn = performance.now() - t0;
    requestAnimationFrame(() => resolve([drawn, performance.now() - t0]));
  }))"""
# t0 at the mousedown, before Plotly's slider handles it; done after the page has shown
# the layer (its "nndyn_layer" event; a page from before it had one: Plotly's restyle)
ARM_CLICK = """() => { const gd = document.getElementById('nndyn-flow');
  const done = DONE;
  const event = 'fast' in window.nndyn.state() ? 'nndyn_layer' : 'plotly_restyle';
  window.__bench = new Promise(resolve => {
    let t0 = null;
    document.addEventListener('mousedown', () => { t0 = performance.now(); },
                              {capture: true, once: true});
    gd.once(event, () => done(t0).then(resolve));
  }); }""".replace("DONE", DONE)
API_MOVE = """async (l) => { const t = performance.now(); await window.nndyn.setLayer(l);
  return await (DONE)(t); }""".replace("DONE", DONE)


def chromium_path() -> str:
    found = os.environ.get("NNDYN_CHROMIUM") or shutil.which("chromium")
    for path in (found, *CHROMIUM_PATHS):
        if path and Path(path).exists():
            real = Path("/usr/lib/chromium/chromium")  # Debian's wrapper script execs this
            return str(real) if real.exists() and "chromium" in Path(path).name else path
    sys.exit("Debian's chromium is not installed (apt-get install chromium)")


def train(preset: str, out: Path) -> Path:
    cmd = [sys.executable, "-m", "nndyn_gui.cli", "train", "--preset", preset]
    subprocess.run([*cmd, "--out", str(out), "--quiet"], env=ENV, check=True, cwd=ROOT)
    return out


def write_page(tree: Path, run: Path, out: Path) -> int:
    env = {**ENV, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "nndyn_gui.cli", "render", str(run), "--kind", "html"]
    p = subprocess.run([*cmd, "--out", str(out), "--force", "-q"], env=env, cwd=tree,
                       capture_output=True, text=True)  # fmt: skip
    if p.returncode != 0:
        sys.exit(f"nndyn render failed ({tree}): {p.stderr}")
    return out.stat().st_size


def positions(n_layers: int, moves: int) -> list[int]:
    """`moves` layers spread over the slider, never the same twice in a row."""
    out, layer = [], 0
    for i in range(moves):
        layer = (layer + 17 + 5 * (i % 3)) % n_layers
        out.append(layer)
    return out


def browser_cpu_s() -> float:
    """CPU seconds used so far by this script's descendants (Playwright's driver, Chromium's
    renderer and GPU processes: software WebGL draws on the CPU), read from /proc."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, CPU seconds)
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that just ended
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    mine, total, grew = {os.getpid()}, 0.0, True
    while grew:
        grew = False
        for pid, (parent, cpu) in stats.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                total += cpu
                grew = True
    return total


def measure(browser: Any, page_path: Path, moves: int, shot: Path | None) -> dict[str, Any]:
    context = browser.new_context(viewport=VIEW, offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t = time.perf_counter()
    page.goto(page_path.as_uri())
    page.wait_for_selector("body[data-nndyn=ready]", timeout=120_000)
    load_s = time.perf_counter() - t
    n = page.evaluate("window.nndyn.state().frames")
    traces = page.evaluate("document.getElementById('nndyn-flow').data.length")
    rail = page.locator(".slider-rail-rect").first.bounding_box()
    page.evaluate(API_MOVE, 0)  # warm: the first restyle compiles Plotly's code paths
    click: list[list[float]] = []
    cpu0 = browser_cpu_s()
    for layer in positions(n, moves):
        page.evaluate(ARM_CLICK)
        x = rail["x"] + (layer + 0.5) / n * rail["width"]
        page.mouse.click(x, rail["y"] + rail["height"] / 2)
        click.append(page.evaluate("window.__bench"))
        page.wait_for_timeout(50)  # a reader's pause between moves
    cpu_click = (browser_cpu_s() - cpu0) / moves * 1000
    api = []
    for layer in positions(n, moves):
        api.append(page.evaluate(API_MOVE, layer))
        page.wait_for_timeout(50)
    if shot is not None:
        page.wait_for_timeout(200)
        page.screenshot(path=str(shot))
    after = page.evaluate("document.getElementById('nndyn-flow').data.length")
    context.close()
    if errors or after != traces:
        sys.exit(f"{page_path.name}: errors {errors}, traces {traces} -> {after}")
    return {"click": click, "api": api, "load_s": round(load_s, 2), "traces": traces,
            "cpu_ms": cpu_click}  # fmt: skip


def summary(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Per repeat the median and max of the moves; the median of the medians."""
    out: dict[str, Any] = {}
    for i, name in enumerate(("drawn", "next_frame")):
        meds = [statistics.median(m[i] for m in r[key]) for r in runs]
        out[name] = {
            "median_ms": round(statistics.median(meds), 1),
            "repeat_medians_ms": [round(m, 1) for m in meds],
            "max_ms": round(max(max(m[i] for m in r[key]) for r in runs), 1),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run3", type=Path, help="a resnet-w3-ring run (default: train it)")
    ap.add_argument("--run2", type=Path, help="a resnet-w2-ring run (default: train it)")
    ap.add_argument("--before", type=Path, help="also the pages of this source tree")
    ap.add_argument("--moves", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--shot", type=Path, help="save a screenshot per page in this folder")
    ap.add_argument("--only3d", action="store_true", help="skip the 2-D page")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench_web_"))
    runs = {"3d": args.run3 or train("resnet-w3-ring", tmp / "w3.nndyn")}
    if not args.only3d:
        runs["2d"] = args.run2 or train("resnet-w2-ring", tmp / "w2.nndyn")
    trees = {"now": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    pages: dict[tuple[str, str], Path] = {}
    sizes: dict[str, int] = {}
    for tree_name, tree in trees.items():
        for kind, run in runs.items():
            html = tmp / f"{tree_name}-{kind}.html"
            sizes[f"{tree_name}_{kind}"] = write_page(tree, run, html)
            pages[(tree_name, kind)] = html
    results: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in pages}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for r in range(args.repeats):  # alternately, so a busy minute hits every page
            for key, path in pages.items():
                last = r == args.repeats - 1 and args.shot is not None
                shot = args.shot / f"bench-{key[0]}-{key[1]}.png" if last else None
                if shot is not None:
                    shot.parent.mkdir(parents=True, exist_ok=True)
                results[key].append(measure(browser, path, args.moves, shot))
        browser.close()
    out: dict[str, Any] = {"moves": args.moves, "repeats": args.repeats, "view": VIEW}
    for (tree_name, kind), res in results.items():
        out[f"{tree_name}_{kind}"] = {
            "bytes": sizes[f"{tree_name}_{kind}"],
            "traces": res[0]["traces"],
            "load_s": [x["load_s"] for x in res],
            "click": summary(res, "click"),
            # the browser's CPU time per click (with a 50 ms pause's idle work): the cost
            # of a move, less swayed by other jobs on a shared machine than the wall clock
            "browser_cpu_ms_per_click": round(statistics.median(x["cpu_ms"] for x in res), 1),
            "api": summary(res, "api"),
        }
    now3 = out["now_3d"]["click"]["drawn"]["median_ms"]
    if "now_2d" in out:
        out["ratio_3d_to_2d"] = round(now3 / out["now_2d"]["click"]["drawn"]["median_ms"], 2)
    if "before_3d" in out:
        out["speedup_3d_vs_before"] = round(
            out["before_3d"]["click"]["drawn"]["median_ms"] / now3, 2
        )
    out["target_ms"] = TARGET_MS
    out["load_avg_1m"] = round(os.getloadavg()[0], 2)
    # issue 24's budget is the default resnet-w3-ring page's; the 2-D page is reported
    out["pass"] = bool(now3 < TARGET_MS and out["now_3d"]["bytes"] <= BUDGET_BYTES)
    if "now_2d" in out:
        out["pass_2d"] = out["now_2d"]["click"]["drawn"]["median_ms"] < TARGET_MS
    print(json.dumps(out))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
