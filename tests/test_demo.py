"""The "draw a digit" page: the committed ONNX exports are the study's networks (onnxruntime agrees with PyTorch
on all 10,000 test images, every layer included), and in Chromium the page draws, preprocesses, classifies and
shows every layer, the occlusion map and GECCO's two answers as PyTorch computes them; drawn with a finger, the
page does not scroll; the mistakes panel lists the most confident errors first; every control takes the keyboard."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mnistlib.course.demo import COMPANIONS, DEMO, GECCO_WEIGHTS, MISTAKES, PAGE_CANDIDATES, PAGE_FILES, page_network
from mnistlib.study.export import LAYER_OUTPUTS, LayerOutputs, describe_export, load_for_export

# one worker builds the smoke book and runs every test that reads it (pytest -n: xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("smoke_book")

ROOT = Path(__file__).resolve().parents[1]
ONNX = ROOT / DEMO / "shao_cnn.onnx"
GECCO_ONNX = ROOT / DEMO / "gecco.onnx"
TOLERANCE = 1e-4  # onnxruntime (native or WebAssembly) against PyTorch, float32


@pytest.fixture(scope="module")
def exported():
    model, record = load_for_export(page_network().file)  # checked against its registry's checksum
    return model, record


@pytest.fixture(scope="module")
def test_set(mnist_dir):
    from mnistlib.data.locate import load_arrays

    arrays = load_arrays("mnist", mnist_dir)
    return arrays["test_images"][:, None].astype(np.float32), arrays["test_labels"]  # raw 0-255: the graph normalises


@pytest.fixture(scope="module")
def test_logits(exported, test_set):
    with torch.no_grad():
        return torch.cat([exported[0](part) for part in torch.from_numpy(test_set[0]).split(1000)]).numpy()


def test_the_committed_onnx_model_is_the_study_run_and_agrees_with_pytorch(exported, test_set, test_logits):
    ort = pytest.importorskip("onnxruntime", reason="pip install onnxruntime (in the test extras)")
    model, record = exported
    about = describe_export(ONNX)
    assert about["weights"] == page_network().file.name, "re-export the chosen network (see book/draw.md)"
    assert (about["model"], about["recipe"], about["tag"], about["seed"]) == (record.model, record.recipe, record.tag,
                                                                             record.seed)
    assert about["test_accuracy"] == record.test_accuracy and about["val_accuracy"] == record.val_accuracy
    pixels, labels = test_set
    session = ort.InferenceSession(str(ONNX))
    assert [o.name for o in session.get_outputs()] == list(LAYER_OUTPUTS) == list(about["outputs"])
    ours = np.concatenate([session.run(["logits"], {"pixels": pixels[i:i + 1000]})[0] for i in range(0, len(pixels), 1000)])
    assert np.array_equal(ours.argmax(1), test_logits.argmax(1))
    assert np.abs(ours - test_logits).max() < TOLERANCE
    assert (test_logits.argmax(1) == labels).mean() == pytest.approx(record.test_accuracy, abs=1e-6)
    with torch.no_grad():  # every layer, on 100 digits
        inside = [t.numpy() for t in LayerOutputs(model)(torch.from_numpy(pixels[:100]))]
    for name, ours, theirs in zip(LAYER_OUTPUTS, session.run(None, {"pixels": pixels[:100]}), inside):
        assert ours.shape == (100, *LAYER_OUTPUTS[name][1]) and np.abs(ours - theirs).max() < TOLERANCE, name
    conv = model.model.features[0][0]
    assert np.array_equal(np.array(about["conv1_kernels"], dtype=np.float32), conv.weight.detach()[:, 0].numpy())


def test_the_page_runs_the_candidate_with_the_best_validation_accuracy():
    from mnistlib.study import registry

    candidates = [registry(ROOT / folder)[name] for folder, name in PAGE_CANDIDATES]
    assert len(candidates) == 2 and all(c.record.model == "shao_cnn" and c.record.seed == 0 for c in candidates)
    best = max(c.record.val_accuracy for c in candidates)
    assert page_network().record.val_accuracy == best


def test_the_committed_gecco_export_answers_as_pytorch_alone_and_in_a_batch(test_set):
    ort = pytest.importorskip("onnxruntime", reason="pip install onnxruntime (in the test extras)")
    model, record = load_for_export(GECCO_WEIGHTS)
    about = describe_export(GECCO_ONNX)
    assert (about["model"], about["seed"], about["test_accuracy"]) == ("gecco", record.seed, record.test_accuracy)
    session = ort.InferenceSession(str(GECCO_ONNX))
    pixels = test_set[0]
    for batch in (pixels[:1], pixels[:64], pixels[100:101]):
        with torch.no_grad():
            theirs = model(torch.from_numpy(batch)).numpy()
        assert np.abs(session.run(None, {"pixels": batch})[0] - theirs).max() < TOLERANCE


def test_every_model_file_the_page_loads_totals_under_4_mb():
    models = [ROOT / DEMO / name for name in PAGE_FILES if name.endswith(".onnx")]
    assert len(models) == 2 and sum(p.stat().st_size for p in models) < 4 * 1024 * 1024


def test_export_refuses_weights_without_their_record(tmp_path):
    from mnistlib.study.export import export_onnx

    torch.save({}, tmp_path / "lonely.weights.pt")
    with pytest.raises(FileNotFoundError, match="run record lonely.json"):
        export_onnx(tmp_path / "lonely.weights.pt", tmp_path / "x.onnx")


@pytest.fixture(scope="module")
def demo_page(browser_context):
    context, base, html = browser_context
    if not (html / "_static" / "ort" / "ort.wasm.min.js").exists():
        pytest.skip("onnxruntime-web was not vendored (no npm): the page says so")
    page, problems = context.new_page(), []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(base + "book/draw.html", wait_until="load")
    page.evaluate("() => window.mnistDemo.ready")
    yield page, problems
    page.close()


def test_a_drawn_vertical_stroke_is_read_as_a_one(demo_page):
    page, problems = demo_page
    box = page.locator("#draw-canvas").bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for step in range(1, 21):  # synthetic pointer events, as a mouse makes them
        page.mouse.move(x, box["y"] + (0.2 + 0.6 * step / 20) * box["height"])
    page.mouse.up()
    page.wait_for_function("() => window.mnistDemo.last() !== null")
    result = page.evaluate("() => window.mnistDemo.update()")
    assert sum(result["probabilities"]) == pytest.approx(1, abs=1e-5)
    assert result["predicted"] == 1, result["probabilities"]
    assert "reads a 1" in page.locator("#draw-status").inner_text()
    assert len(page.locator("#draw-table tbody tr").all()) == 10
    assert problems == []


def test_fifty_test_digits_are_classified_as_pytorch_classifies_the_page_s_input(demo_page, exported, mnist_dir):
    from mnistlib.data.locate import load_arrays

    page, problems = demo_page
    model, _ = exported
    images = load_arrays("mnist", mnist_dir)["test_images"][:50]
    disagreements = []
    for i, image in enumerate(images):
        result = page.evaluate("(pixels) => window.mnistDemo.paint(pixels)", image.reshape(-1).tolist())
        seen = torch.tensor(result["input"], dtype=torch.float32).reshape(1, 1, 28, 28)
        assert 0 <= seen.min() and seen.max() <= 255
        with torch.no_grad():
            expected = int(model(seen).argmax())
        if expected != result["predicted"]:
            disagreements.append((i, expected, result["predicted"]))
    assert disagreements == []
    assert problems == []


def _draw(page, strokes):
    """Clear the canvas and draw ``strokes`` (lists of points, fractions of the canvas) with the mouse; then
    update the page and wait for its occlusion map."""
    page.click("#draw-clear")
    box = page.locator("#draw-canvas").bounding_box()
    for points in strokes:
        page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=6)
        page.mouse.up()
    page.evaluate("() => window.mnistDemo.update()")
    return page.evaluate("() => window.mnistDemo.snapshot()"), page.evaluate("() => window.mnistDemo.occlusion()")


PATCH, STRIDE = 6, 2  # issue 31's occlusion: a 6 x 6 square of background slid with stride 2


def _occlusion_reference(model, image: np.ndarray, patch: int = PATCH, stride: int = STRIDE) -> tuple[int, np.ndarray]:
    """The winning class of ``image`` (1, 1, 28, 28) and, for each place of a ``patch`` x ``patch`` square of
    zeros slid with ``stride`` (row-major), how much covering it lowers that class's probability."""
    places = range(0, 28 - patch + 1, stride)
    covered = np.repeat(image, len(places) ** 2, axis=0)
    for k, (y, x) in enumerate((y, x) for y in places for x in places):
        covered[k, 0, y:y + patch, x:x + patch] = 0
    with torch.no_grad():
        p = model(torch.from_numpy(image)).softmax(1)[0]
        q = model(torch.from_numpy(covered)).softmax(1)
    winner = int(p.argmax())
    return winner, (p[winner] - q[:, winner]).numpy()


DRAWINGS = {  # strokes in fractions of the canvas
    "a seven": [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]],
    "a zero": [[(0.5, 0.15), (0.3, 0.3), (0.28, 0.6), (0.5, 0.85), (0.7, 0.6), (0.7, 0.3), (0.5, 0.15)]],
    "a four": [[(0.3, 0.15), (0.25, 0.55), (0.75, 0.55)], [(0.6, 0.3), (0.6, 0.9)]],
}


def test_drawn_digits_show_every_layer_the_occlusion_map_and_gecco_as_pytorch_computes_them(demo_page, exported,
                                                                                           test_set):
    page, problems = demo_page
    model, _ = exported
    gecco, _ = load_for_export(GECCO_WEIGHTS)
    companions = torch.from_numpy(test_set[0][:COMPANIONS])
    for drawing, strokes in DRAWINGS.items():
        shown, occluded = _draw(page, strokes)
        image = np.array(shown["input"], dtype=np.float32).reshape(1, 1, 28, 28)
        with torch.no_grad():
            inside = [t.numpy().ravel() for t in LayerOutputs(model)(torch.from_numpy(image))]
            alone = gecco(torch.from_numpy(image)).softmax(1)[0].numpy()
            among = gecco(torch.cat([torch.from_numpy(image), companions])).softmax(1)[0].numpy()
        for name, theirs in zip(LAYER_OUTPUTS, inside):
            assert np.abs(np.array(shown["outputs"][name]) - theirs).max() < TOLERANCE, (drawing, name)
        assert shown["predicted"] == int(inside[0].argmax()), drawing
        winner, drops = _occlusion_reference(model, image)
        assert occluded["winner"] == winner and np.abs(np.array(occluded["drops"]) - drops).max() < TOLERANCE, drawing
        stated = [page.locator(f"#occlusion-{k}").inner_text() for k in ("patch", "stride", "places", "count")]
        places = (28 - PATCH) // STRIDE + 1
        assert stated == [f"{PATCH} × {PATCH}", str(STRIDE), f"{places} × {places}", str(len(drops))]
        assert np.abs(np.array(shown["gecco"]["alone"]) - alone).max() < TOLERANCE, drawing
        assert np.abs(np.array(shown["gecco"]["among"]) - among).max() < TOLERANCE, drawing
        assert page.locator("#gecco-alone").inner_text().startswith(f"reads a {alone.argmax()}")
        assert page.locator("#gecco-among").inner_text().startswith(f"reads a {among.argmax()}")
        for map_, row, column in [(0, 14, 14), (5, 0, 27), (11, 27, 3)]:  # the middle, two corners (padding)
            explained = page.evaluate("([m, r, c]) => window.mnistDemo.choose(m, r, c)", [map_, row, column])
            expected = inside[LAYER_OUTPUTS_INDEX["conv1_pre"]].reshape(LAYER_OUTPUTS["conv1_pre"][1])[map_, row, column]
            assert explained["sum"] + explained["bias"] == pytest.approx(expected, abs=TOLERANCE)
            assert f"Map {map_} at row {row}, column {column}" in page.locator("#inside-sum").inner_text()
    assert problems == []


LAYER_OUTPUTS_INDEX = {name: i for i, name in enumerate(LAYER_OUTPUTS)}


def test_drawing_with_a_finger_draws_without_scrolling_the_page(browser_context):
    context, base, _ = browser_context
    phone = context.browser.new_context(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 844})
    phone.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    page = phone.new_page()
    page.goto(base + "book/draw.html", wait_until="load")
    page.evaluate("() => window.mnistDemo.ready")
    page.locator("#draw-canvas").scroll_into_view_if_needed()
    before = page.evaluate("() => window.scrollY")
    box = page.locator("#draw-canvas").bounding_box()
    touch = phone.new_cdp_session(page)
    x = box["x"] + box["width"] / 2
    bottom = box["y"] + box["height"] - 20
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": bottom}]})
    for step in range(1, 16):  # an upward swipe: on an ordinary element it scrolls the page down
        y = bottom - step * (box["height"] - 40) / 15
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.scrollY") == before, "the swipe scrolled the page instead of drawing"
    page.wait_for_function("() => window.mnistDemo.last() !== null", timeout=10_000)
    assert page.evaluate("() => window.mnistDemo.last().input.some((v) => v > 0)")
    phone.close()


def test_the_mistakes_panel_lists_the_most_confident_errors_first_with_their_confidence(demo_page, browser_context,
                                                                                       test_logits, test_set):
    import json

    page, _ = demo_page
    digits = json.loads((browser_context[2] / "_static" / "demo" / "digits.json").read_text())
    probabilities = torch.from_numpy(test_logits).softmax(1).numpy()
    predicted, confidence = probabilities.argmax(1), probabilities.max(1)
    wrong = np.flatnonzero(predicted != test_set[1])
    expected = wrong[np.argsort(-confidence[wrong], kind="stable")][:MISTAKES]
    assert [m["index"] for m in digits["mistakes"]] == expected.tolist()
    assert [m["confidence"] for m in digits["mistakes"]] == pytest.approx(confidence[expected].tolist(), abs=1e-5)
    labels = page.locator("#draw-mistakes button").evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))")
    assert [f"with {100 * c:.0f}% confidence" in label for label, c in zip(labels, confidence[expected])] == [True] * MISTAKES
    assert [m["index"] for m in digits["companions"]] == list(range(COMPANIONS))


def test_every_control_takes_the_keyboard_and_every_map_says_what_it_holds(demo_page):
    import re

    page, problems = demo_page
    page.locator("#draw-samples button").nth(3).focus()
    page.keyboard.press("Enter")  # a sample 3 on the canvas
    page.wait_for_function("() => window.mnistDemo.last() !== null")
    page.evaluate("() => window.mnistDemo.occlusion()")
    page.locator("#draw-clear").focus()
    reached, tiles = set(), set()
    for _ in range(300):  # once round the page (Tab wraps around)
        page.keyboard.press("Tab")
        control, tile = page.evaluate("() => { const e = document.activeElement; "
                                      "return [e.id || e.className, [...document.querySelectorAll('.inside-tile')].indexOf(e)]; }")
        reached.add(control)
        tiles.add(tile)
    assert {"draw-digit", "inside-tile", "inside-zoom"} <= reached
    maps = sum(LAYER_OUTPUTS[name][1][0] for name in ("conv1", "conv2", "conv3"))  # 12 + 24 + 32
    assert tiles - {-1} == set(range(maps))
    labels = page.locator(".inside-tile").evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))")
    pattern = re.compile(r"conv [123], map \d+: (strongest activation \d+\.\d\d at row \d+, column \d+|no activation \(every value 0\))")
    assert all(pattern.fullmatch(label) for label in labels), labels[:3]
    page.locator(".inside-tile").nth(4).focus()  # conv 1, map 4
    page.locator("#inside-zoom").focus()
    page.evaluate("() => window.mnistDemo.choose(4, 14, 14)")
    page.keyboard.press("ArrowRight")
    assert "Map 4 at row 14, column 15" in page.locator("#inside-sum").inner_text()
    assert "lowers the probability" in page.locator("#occlusion-map").get_attribute("aria-label")
    assert problems == []
