"""The CPU's fast path (``torch.compile``) computes what the eager loop computes, step for step, and the
study's bookkeeping (fingerprints, execution-only settings) treats a compiled run as the same experiment."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from mnistlib.training.config import TrainConfig, config_differences
from mnistlib.data import load_data
from mnistlib.models import get_model
from mnistlib.study.run import model_fingerprint
from mnistlib.training.loop import compiled, fit


def _losses(forward_of, steps: int = 4) -> list[float]:
    """Shao's CNN (batch norm and dropout on) trained ``steps`` Adam steps on fixed batches."""
    torch.manual_seed(0)
    model = get_model("shao_cnn")
    forward = forward_of(model)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(steps, 64, 1, 28, 28, generator=gen), torch.randint(0, 10, (steps, 64), generator=gen)
    torch.manual_seed(2)  # the dropout masks
    losses = []
    for i in range(steps):
        loss = torch.nn.functional.cross_entropy(forward(x[i]), y[i])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_compiled_training_steps_equal_eager_to_rounding():
    eager = _losses(lambda m: m)
    fast = _losses(compiled)
    assert fast == pytest.approx(eager, rel=1e-4)
    assert eager[0] != pytest.approx(eager[-1], rel=1e-3)  # the steps really moved the weights


def _small_run():
    """500 training images, 200 validation images, one epoch: the data and config both fit tests train."""
    data = load_data("mnist", device="cpu", train_subset=500)
    return dataclasses.replace(data, val=data.val.head(200)), TrainConfig(epochs=1, batch_size=100, device="cpu")


def test_fit_with_compile_records_its_path_and_is_the_same_experiment():
    data, config = _small_run()
    torch.manual_seed(0)
    eager = fit(get_model("shao_cnn"), data, config, quiet=True)
    torch.manual_seed(0)
    fast = fit(get_model("shao_cnn"), data, dataclasses.replace(config, compile=True), quiet=True)
    assert (eager.train_path, fast.train_path) == ("eager", "compiled")
    assert fast.history[0]["train_loss"] == pytest.approx(eager.history[0]["train_loss"], rel=1e-3)
    assert config_differences(dataclasses.replace(config, compile=True).to_dict(), config) == []


def test_fit_in_channels_last_trains_that_layout_and_is_the_same_experiment():
    data, config = _small_run()
    torch.manual_seed(0)
    plain = fit(get_model("shao_cnn"), data, config, quiet=True)
    torch.manual_seed(0)
    model = get_model("shao_cnn")
    last = fit(model, data, dataclasses.replace(config, channels_last=True), quiet=True)
    convs = [p for p in model.parameters() if p.dim() == 4 and p.shape[1] > 1]  # one input channel: either layout
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous() for p in convs)
    assert last.history[0]["train_loss"] == pytest.approx(plain.history[0]["train_loss"], rel=1e-3)
    assert config_differences(dataclasses.replace(config, channels_last=True).to_dict(), config) == []


def test_a_new_config_field_at_its_default_keeps_old_records_current():
    old_record = {k: v for k, v in TrainConfig().to_dict().items() if k not in ("min_lr", "compile")}
    assert config_differences(old_record, TrainConfig()) == []
    assert config_differences(old_record, TrainConfig(min_lr=1e-5)) == ["min_lr: 0.0 then, 1e-05 now"]


def test_the_fingerprint_follows_the_model_definition_not_the_global_rng():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = model_fingerprint("shao_cnn")
    assert torch.rand(1) == before  # computing it leaves the caller's random stream alone
    assert model_fingerprint("shao_cnn") == first
    assert model_fingerprint("shao_cnn", {"dropout": 0.2}) != first
    assert model_fingerprint("shao_cnn", {"init_std": 0.05}) != first  # same layers, other initial weights
