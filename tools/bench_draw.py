"""Benchmark (not a test): how fast the "draw a digit" page answers, in Chromium on this machine.

    python tools/bench_draw.py _build/_build/html [--digits 20] [--out results/bench/draw_page.json]

Draws ``--digits`` digits with pointer strokes on the built book's draw page and reports, from the page's own
clock (``window.mnistDemo.timings``, started when the stroke ends): the time until the probabilities and every
layer's maps are updated (target under 100 ms) and until the occlusion map is (target under 500 ms).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
from datetime import date
from pathlib import Path

from playwright.sync_api import sync_playwright

from mnistlib.course.serve import served, system_chromium
from mnistlib.training.atomic_files import write_json
from mnistlib.training.device import cpu_model

STROKES = [  # a 1, a 7, an L: fractions of the canvas
    [(0.5, 0.2), (0.5, 0.8)],
    [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)],
    [(0.3, 0.15), (0.3, 0.8), (0.7, 0.8)],
]


def bench(html: Path, digits: int) -> dict:
    with served(html) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=system_chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(base + "book/draw.html", wait_until="load")
        page.evaluate("() => window.mnistDemo.ready")
        box = page.locator("#draw-canvas").bounding_box()
        for i in range(digits):
            page.click("#draw-clear")
            points = STROKES[i % len(STROKES)]
            page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
            page.mouse.down()
            for x, y in points[1:]:
                page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=10)
            page.mouse.up()
            page.wait_for_function(f"() => window.mnistDemo.timings.occlusion.length > {i}")
        timings = page.evaluate("() => window.mnistDemo.timings")
        version = browser.version
        browser.close()
    summary = {name: {"median_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1),
                      "n": len(values)} for name, values in timings.items()}
    return {"digits": digits, "stroke_end_to_maps": summary["update"], "stroke_end_to_occlusion": summary["occlusion"],
            "browser": f"Chromium {version}", "cpu": cpu_model(), "machine": platform.machine(),
            "date": date.today().isoformat()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html", type=Path, help="the built book's HTML folder")
    parser.add_argument("--digits", type=int, default=20)
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = parser.parse_args()
    result = bench(args.html, args.digits)
    maps, occlusion = result["stroke_end_to_maps"], result["stroke_end_to_occlusion"]
    print(f"{args.digits} digits drawn in {result['browser']} on {result['cpu']}:\n"
          f"  stroke end -> probabilities and maps: median {maps['median_ms']} ms, max {maps['max_ms']} ms "
          f"(target under 100 ms)\n"
          f"  stroke end -> occlusion map:          median {occlusion['median_ms']} ms, max {occlusion['max_ms']} ms "
          f"(target under 500 ms)")
    if args.out:
        write_json(result, args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
