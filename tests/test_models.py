"""The registry and the models of the spine: exact parameter counts, shapes, initialisation, errors."""
from __future__ import annotations

import pytest
import torch

from mnistlib.models import count_params, get_model, get_model_info, list_models

EXACT_PARAMS = {"shao_cnn": 354_138, "baseline_cnn": 3_390_634}


@pytest.mark.parametrize("name, expected", EXACT_PARAMS.items())
def test_exact_parameter_counts(name, expected):
    assert count_params(get_model(name)) == expected
    assert get_model_info(name).count_params() == expected


def test_shao_cnn_without_batch_norm_affine_has_354002():
    model = get_model("shao_cnn")
    bn = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())
    assert count_params(model) - bn == 354_002


@pytest.mark.parametrize("name", list_models())
def test_forward_shape_and_metadata(name):
    model = get_model(name).eval()
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    info = get_model_info(name)
    assert info.source and info.summary and "full" in info.recipes
    assert model.registry_name == name and model.batch_dependent is info.batch_dependent


def test_shao_cnn_feature_map_is_1568():
    model = get_model("shao_cnn")
    assert model.features(torch.zeros(1, 1, 28, 28)).shape == (1, 1568)


def test_shao_cnn_initialisation_follows_the_paper():
    torch.manual_seed(0)
    model = get_model("shao_cnn")
    weights = [m.weight for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    biases = [m.bias for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    flat = torch.cat([w.flatten() for w in weights])
    assert flat.abs().max() <= 0.2 and 0.07 < flat.std() < 0.1  # N(0, 0.1) truncated at 2 std: std ~0.088
    assert all(torch.all(b == 0.1) for b in biases)


def test_unknown_model_suggests_close_names():
    with pytest.raises(KeyError, match="shao_cnn"):
        get_model("shao_cn")
