"""The study's plan: why a model is pending, with the estimate measured on a GPU where one was."""
import json

from mnistlib.study import plan
from mnistlib.training.config import resolve_config


def test_a_model_left_to_the_gpu_is_pending_with_the_gpus_estimate(tmp_path, monkeypatch):
    cpu_times = tmp_path / "full" / "epoch_times.json"
    cpu_times.parent.mkdir(parents=True)
    cpu_times.write_text(json.dumps({"after": {"resnet": 600.0}, "before": {}}))
    epochs = resolve_config("resnet", "full").epochs
    assert plan.pending_reason("resnet", tmp_path) == (
        f"needs a GPU (issue 18, about {600 * epochs / 60:.0f} min a seed on this CPU): "
        "python -m mnistlib reproduce --models resnet --cuda-graph")
    assert plan.pending_reason("baseline_cnn", tmp_path).startswith("the CPU study has not reached it yet")

    measured = {"resnet": 12.0, "resnet18": 3.0}
    monkeypatch.setattr(plan, "epoch_seconds", lambda item, device: measured[item.model])
    path = plan.measure_gpu(tmp_path, models=["resnet", "resnet18"], device="cpu", log=None)
    written = json.loads(path.read_text())
    assert path == tmp_path / "gpu" / "epoch_times.json" and written["seconds"] == measured
    assert written["device_name"] and written["torch"] and written["commit"]
    assert plan.pending_reason("resnet", tmp_path).startswith(
        f"needs a GPU (issue 18: about {12 * epochs / 60:.0f} GPU minutes a seed on {written['device_name']})")


def test_the_models_left_to_a_gpu_are_those_the_cpu_study_does_not_train():
    assert sorted(plan.gpu_models()) == ["efficient_capsnet", "efficient_capsnet_decoder", "resnet", "resnet18",
                                         "spinalnet", "vgg5"]
