#!/usr/bin/env python3
"""Browser test of the Streamlit app (clients/streamlit/app.py) against a running gateway.

Starts `streamlit run` headless on a free loopback port, opens the page in Debian's headless
Chromium (/usr/bin/chromium, driven by Playwright; no `playwright install`), picks the
mc-tau.yaml example, sets the runs to 2000, submits, waits until the page says the job
succeeded, checks that the histograms chart is drawn (a canvas or SVG of nonzero size), that
the page shows no Python exception, and saves a screenshot; then runs mc-tau-adaptive-p95.yaml
(capped at 40,000 runs) and checks that its precision panel shows p95's interval; then the
optimize-k-tau.yaml example (max_generations set to 60) and its path chart. Exits 0 on success, 1 with a
message when a check fails, 2 when Streamlit or the browser cannot start; Streamlit is
stopped in every case.

    PYTHONPATH=clients/python/src python clients/streamlit/tests/test_app.py \\
        --gateway 127.0.0.1:50051 --token "$TANKSIM_TOKEN" --screenshot-dir target/test-artifacts/streamlit
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Optional

APP_DIR = Path(__file__).resolve().parents[1]
REPO = APP_DIR.parents[1]
RUNS = 2000
#: The adaptive p95 job's run cap (it stops on target in fewer).
ADAPTIVE_CAP = 40000
#: The optimisation's generation cap (it converges in fewer).
GENERATIONS = 60
CHROMIUM = "/usr/bin/chromium"


class Failed(Exception):
    """A check failed: the message says which and what the page showed."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", required=True, help="the tanksim gateway, host:port")
    parser.add_argument("--token", default=os.environ.get("TANKSIM_TOKEN", ""), help="API token (default $TANKSIM_TOKEN)")
    parser.add_argument("--screenshot-dir", required=True, type=Path, help="where the PNGs go")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default {CHROMIUM})")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds the job may take")
    args = parser.parse_args()
    args.screenshot_dir.mkdir(parents=True, exist_ok=True)
    # A SIGTERM (a runner's timeout) unwinds through the finally blocks that stop streamlit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.monotonic()
    log_dir = Path(tempfile.mkdtemp(prefix="tanksim-streamlit-"))
    try:
        streamlit = Streamlit.start(args.gateway, args.token, log_dir)
    except Failed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 2
    try:
        try:
            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import sync_playwright
        except ImportError as e:
            print(f"FAILED: Playwright for Python is not installed ({e}); see requirements.txt", file=sys.stderr)
            return 2
        with sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=args.chromium, headless=True)
            except PlaywrightError as e:
                print(f"FAILED: cannot start {args.chromium}: {e}", file=sys.stderr)
                return 2
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                shot = run_checks(page, streamlit.url, args.screenshot_dir, args.timeout)
            except (Failed, PlaywrightError) as e:
                failure = args.screenshot_dir / "failure.png"
                try:
                    page.screenshot(path=str(failure), full_page=True)
                    where = f"; the page then: {failure}"
                except PlaywrightError:
                    where = ""
                print(f"FAILED: {e}{where}", file=sys.stderr)
                print(f"streamlit's log:\n{streamlit.log()}", file=sys.stderr)
                return 1
            finally:
                browser.close()
    finally:
        streamlit.stop()
    print(f"screenshot: {shot}")
    print(f"PASSED: mc-tau with {RUNS} runs, mc-tau-adaptive-p95 and optimize-k-tau submitted, watched and drawn in {time.monotonic() - started:.1f} s")
    return 0


def run_checks(page, url: str, out: Path, timeout: float) -> Path:  # type: ignore[no-untyped-def]
    """Drives the page; returns the MC-tau screenshot's path. Raises Failed on a failed check."""
    step(f"open {url}")
    page.goto(url, wait_until="domcontentloaded")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Example spec").wait_for(timeout=60_000)

    text = submit_example(page, "mc-tau", ("Runs", RUNS, "runs"), timeout, previous="")
    if f"{RUNS}/{RUNS} runs" not in text:
        raise Failed(f"expected {RUNS}/{RUNS} runs in {text!r}")
    drawn(page, "tanksim-histograms", "histogram")
    shot = screenshot(page, out / "streamlit-mc-tau.png")

    # An adaptive job on a quantile: the precision panel names the statistic and its interval.
    text = submit_example(page, "mc-tau-adaptive-p95", ("Runs", ADAPTIVE_CAP, "runs"), timeout, previous=text)
    precision = page.locator(".st-key-tanksim-precision")
    precision.wait_for(timeout=60_000)

    def shows_p95() -> bool:
        shown = precision.inner_text()
        return "p95 overshoot_pct" in shown and "interval [" in shown

    # The panel's parts are drawn one after another: wait for all of them.
    wait_for(shows_p95, 30, "the precision panel's p95 and interval", page)
    step(f"the precision panel says: {' '.join(precision.inner_text().split())}")

    # An optimisation: its path chart is drawn once the search has stopped.
    submit_example(page, "optimize-k-tau", ("Max generations", GENERATIONS, "max_generations"), timeout, previous=text)
    drawn(page, "tanksim-optimize-path", "optimisation path")
    screenshot(page, out / "streamlit-optimize.png")
    return shot


def submit_example(page, name: str, knob: tuple, timeout: float, previous: str) -> str:  # type: ignore[no-untyped-def]
    """Picks examples/<name>.yaml, sets the widget labelled ``knob[0]`` to ``knob[1]`` (the
    YAML's ``knob[2]`` follows), submits, and waits until the page's final state says a job other
    than the one ``previous`` described succeeded; returns what it says."""
    label, value, field = knob
    step(f"choose the {name}.yaml example")
    example = page.locator('[data-testid="stSelectbox"]').filter(has_text="Example spec")
    # A combobox: typing filters its options.
    box = example.locator("input")
    box.click()
    box.press_sequentially(name)
    page.get_by_role("option", name=f"{name}.yaml", exact=True).click()
    spec = page.get_by_label("Job spec (YAML of SubmitJobRequest)", exact=True)
    wait_for(lambda: f"name: {name}\n" in spec.input_value(), 30, f"{name}.yaml's YAML in the text area", page)

    step(f"set {label} to {value}")
    widget = page.get_by_label(label, exact=True)
    # Until the rerun after the pick finishes, the previous spec's widget of the same label
    # (stale) may still be on the page beside the new one.
    wait_for(lambda: widget.count() == 1, 30, f"one {label!r} widget", page)
    widget.fill(str(value))
    widget.press("Enter")
    wait_for(lambda: f"{field}: {value}\n" in spec.input_value(), 30, f"{field}: {value} in the YAML", page)

    step("submit")
    page.get_by_role("button", name="Submit job").click()
    state = page.locator(".st-key-tanksim-job-state")
    deadline = time.monotonic() + timeout
    saw_progress = False
    while True:
        exceptions = page.locator('[data-testid="stException"]')
        if exceptions.count():
            raise Failed(f"the page shows a Python exception: {exceptions.first.inner_text()[:2000]}")
        errors = page.locator('[data-testid="stAlertContentError"]')
        if errors.count():
            raise Failed(f"the page shows an error: {errors.first.inner_text()[:2000]}")
        if page.locator(".st-key-tanksim-job-state [data-testid='stProgress']").count():
            saw_progress = True
        text = state.inner_text() if state.count() else ""
        # The final state names the job ("Job <id> succeeded: ..."); while it runs, or for a
        # moment after, the progress bar says "succeeded: ..." without it.
        if "succeeded" in text and "Job " in text and text != previous:
            break
        if "failed" in text or "cancelled" in text:
            raise Failed(f"the job did not succeed: {text}")
        if time.monotonic() > deadline:
            raise Failed(f"no 'succeeded' after {timeout:.0f} s; the job state shows: {text!r}")
        time.sleep(0.25)
    step(f"the page says: {text.strip()} (progress bar seen: {saw_progress})")
    return text


def drawn(page, key: str, what: str) -> None:  # type: ignore[no-untyped-def]
    """Waits until the chart in the container ``key`` is drawn (a canvas or SVG of nonzero size)."""
    step(f"the {what} chart is drawn")
    chart = page.locator(f".st-key-{key}")
    chart.wait_for(timeout=60_000)
    marks = chart.locator("canvas, svg.marks")
    wait_for(lambda: marks.count() > 0 and nonzero(marks.first.bounding_box()), 60, f"a drawn {what} chart", page)
    box = marks.first.bounding_box()
    step(f"chart {box['width']:.0f}x{box['height']:.0f} px")


def screenshot(page, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """The whole page as a PNG at ``path``."""
    # Streamlit scrolls inside its main block, not the document: make the window as tall as
    # the content so the picture holds the whole page.
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height) + 40, 8000))})
    # Vega-Lite redraws after a resize; give it a moment before the picture.
    page.wait_for_timeout(1500)
    page.screenshot(path=str(path), full_page=True)
    if not path.is_file() or path.stat().st_size == 0:
        raise Failed(f"no screenshot at {path}")
    page.set_viewport_size({"width": 1400, "height": 1000})
    return path


def nonzero(box: Optional[dict]) -> bool:
    return bool(box) and box["width"] > 0 and box["height"] > 0


def wait_for(check, seconds: float, what: str, page) -> None:  # type: ignore[no-untyped-def]
    """Polls ``check`` until true; Failed naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {seconds:.0f} s waiting for {what}")
        page.wait_for_timeout(200)


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Streamlit:
    """`streamlit run app.py` on a free loopback port, its output in files."""

    def __init__(self, proc: subprocess.Popen, port: int, log_dir: Path) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}/"
        self.log_dir = log_dir

    @classmethod
    def start(cls, gateway: str, token: str, log_dir: Path) -> "Streamlit":
        # The port was free a moment ago; if something took it meanwhile, try another.
        for attempt in range(3):
            port = free_port()
            env = dict(os.environ, TANKSIM_GATEWAY=gateway, TANKSIM_TOKEN=token)
            src = str(REPO / "clients" / "python" / "src")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, str(APP_DIR), env.get("PYTHONPATH")]))
            cmd = [
                sys.executable, "-m", "streamlit", "run", str(APP_DIR / "app.py"),
                "--server.headless=true",
                "--browser.gatherUsageStats=false",
                "--server.address=127.0.0.1",
                f"--server.port={port}",
                "--server.fileWatcherType=none",
                "--global.developmentMode=false",
                "--client.toolbarMode=viewer",
            ]
            out = open(log_dir / f"streamlit-{attempt}.log", "wb")
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env)
            out.close()
            server = cls(proc, port, log_dir)
            step(f"streamlit (pid {proc.pid}) on {server.url}")
            if server.wait_healthy(60):
                return server
            server.stop()
        raise Failed(f"streamlit did not answer /_stcore/health:\n{server.log()}")

    def wait_healthy(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.25)
        return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return "".join(p.read_text(errors="replace")[-20_000:] for p in sorted(self.log_dir.glob("streamlit-*.log")))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
