"""The "draw a digit" page: the committed ONNX export is the study's network (onnxruntime agrees with PyTorch
on all 10,000 test images), and in Chromium the page draws, preprocesses and classifies as PyTorch does."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mnistlib.course.demo import DEMO, EXPORTED_WEIGHTS
from mnistlib.study.export import describe_export, load_for_export

# one worker builds the smoke book and runs every test that reads it (pytest -n: xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("smoke_book")

ROOT = Path(__file__).resolve().parents[1]
ONNX = ROOT / DEMO / "shao_cnn.onnx"


@pytest.fixture(scope="module")
def exported():
    model, record = load_for_export(EXPORTED_WEIGHTS)  # by its name in the weights' registry
    return model, record


def test_the_committed_onnx_model_is_the_study_run_and_agrees_with_pytorch(exported, mnist_dir):
    ort = pytest.importorskip("onnxruntime", reason="pip install onnxruntime (in the test extras)")
    from mnistlib.data.locate import load_arrays

    model, record = exported
    about = describe_export(ONNX)
    assert (about["model"], about["recipe"], about["seed"]) == (record.model, record.recipe, record.seed)
    assert about["test_accuracy"] == record.test_accuracy and ONNX.stat().st_size < 2 * 1024 * 1024
    arrays = load_arrays("mnist", mnist_dir)
    pixels = arrays["test_images"][:, None].astype(np.float32)  # raw 0-255: the graph normalises
    session = ort.InferenceSession(str(ONNX))
    ours = np.concatenate([session.run(None, {"pixels": pixels[i:i + 1000]})[0] for i in range(0, len(pixels), 1000)])
    with torch.no_grad():
        theirs = torch.cat([model(torch.from_numpy(pixels[i:i + 1000])) for i in range(0, len(pixels), 1000)]).numpy()
    assert np.array_equal(ours.argmax(1), theirs.argmax(1))
    assert np.abs(ours - theirs).max() < 1e-4
    assert (theirs.argmax(1) == arrays["test_labels"]).mean() == pytest.approx(record.test_accuracy, abs=1e-6)


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
