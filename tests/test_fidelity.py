"""The models and recipes as their sources have them (the differences a same-weights comparison found)."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mnistlib.training.config import TrainConfig, resolve_config
from mnistlib.models import get_model
from mnistlib.models.keras_defaults import he_normal_
from mnistlib.training.loop import build_scheduler


@pytest.mark.parametrize("name", ["shao_cnn", "efficient_capsnet"])
def test_keras_models_keep_keras_batch_norm(name):
    norms = [m for m in get_model(name).modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert norms and all((m.eps, m.momentum) == (1e-3, 0.01) for m in norms)


def test_keras_he_normal_has_the_std_it_promises():
    torch.manual_seed(0)
    w = he_normal_(torch.empty(400_000), fan_in=50)
    assert w.std().item() == pytest.approx(math.sqrt(2 / 50), rel=0.01)
    assert w.abs().max().item() <= 2 * math.sqrt(2 / 50) / 0.8796 + 1e-6


def test_capsnet_primary_capsules_start_as_keras_conv2d():
    torch.manual_seed(0)
    conv = get_model("efficient_capsnet").primary.depthwise
    limit = math.sqrt(6 / (81 + 128 * 81))  # glorot_uniform, fan_in 1 * 9 * 9, fan_out 128 * 9 * 9
    assert conv.weight.abs().max().item() <= limit and conv.weight.abs().max().item() > 0.9 * limit
    assert torch.count_nonzero(conv.bias) == 0


def test_capsnet_schedule_stops_decaying_at_its_floor():
    config = resolve_config("efficient_capsnet", "source")
    assert (config.epochs, config.gamma, config.min_lr) == (150, 0.97, 5e-5)
    model = nn.Linear(1, 1)
    optimizer = torch.optim.Adam(model.parameters(), config.lr)
    scheduler, per_batch = build_scheduler(optimizer, config, steps_per_epoch=1)
    rates = []
    for _ in range(150):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[1] == pytest.approx(5e-4 * 0.97) and min(rates) == pytest.approx(5e-5)
    assert rates.index(min(rates)) == math.ceil(math.log(0.1) / math.log(0.97))  # 0.97^76 < 0.1


def test_the_plain_exponential_schedule_is_unchanged():
    optimizer = torch.optim.Adam(nn.Linear(1, 1).parameters(), 1e-3)
    scheduler, _ = build_scheduler(optimizer, TrainConfig(schedule="exponential", gamma=0.99), 1)
    assert isinstance(scheduler, torch.optim.lr_scheduler.ExponentialLR)


@pytest.mark.parametrize("name", ["gecco", "gecco_enhanced", "gecco_complete"])
def test_gecco_trains_every_epoch_of_the_report(name):
    config = resolve_config(name, "full")
    assert (config.epochs, config.patience) == (50, None)


def test_baseline_cnn_trains_the_reports_25_epochs():
    config = resolve_config("baseline_cnn", "full")
    assert (config.epochs, config.schedule, config.step_size, config.gamma) == (25, "step", 7, 0.1)
