"""SpinalNet, VGG-5, the ResNets and Efficient-CapsNet: counts, wiring, routing and loss by hand, recipes."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mnistlib.training.config import resolve_config
from mnistlib.data.augment import CapsNetAugment, RandomPerspectiveRotation, build_augmentation
from mnistlib.models import count_params, get_model, get_model_info, list_models
from mnistlib.models.efficient_capsnet import FCCaps, margin_loss, squash
from mnistlib.models.spinalnet import SpinalHead

EXACT = {"spinalnet_small": 13_818, "vgg5": 3_646_154, "spinalnet": 3_629_770, "resnet": 46_710_730,
         "resnet18": 11_172_810, "efficient_capsnet": 161_824, "efficient_capsnet_decoder": 1_573_168}


@pytest.mark.parametrize("name, expected", EXACT.items())
def test_exact_parameter_counts(name, expected):
    assert count_params(get_model(name)) == expected


def test_resnet_gap_to_the_report_is_stated():
    info = get_model_info("resnet")
    assert info.reported_params - count_params(get_model("resnet")) == 122_496
    assert "122,496" in info.notes


@pytest.mark.parametrize("name", list_models())
def test_every_model_takes_a_training_step(name):
    torch.manual_seed(0)
    model = get_model(name).train()
    x, y = torch.randn(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    out = model(x)
    loss = model.loss(out, y) if hasattr(model, "loss") else nn.functional.cross_entropy(out, y)
    loss.backward()
    assert out.shape == (4, 10) and torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_spinal_head_feeds_alternate_halves_by_hand():
    head = SpinalHead(half=1, width=1, layers=3, classes=1)
    with torch.no_grad():
        for layer in head.layers:
            layer[0].weight.fill_(1.0)
            layer[0].bias.zero_()
        head.out[0].weight.copy_(torch.tensor([[1.0, 10.0, 100.0]]))
        head.out[0].bias.zero_()
    # a = 1, b = 2: y1 = relu(a) = 1, y2 = relu(b + y1) = 3, y3 = relu(a + y2) = 4 -> 1 + 30 + 400
    assert head(torch.tensor([[1.0, 2.0]])).item() == pytest.approx(431.0)


def test_squash_keeps_direction_and_maps_length_to_one_minus_exp():
    s = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    v = squash(s)
    assert v[0].norm().item() == pytest.approx(1 - math.exp(-5.0), rel=1e-6)
    assert torch.allclose(v[0] / v[0].norm(), torch.tensor([0.6, 0.8]))
    assert torch.equal(v[1], torch.zeros(2))


def test_self_attention_routing_by_hand():
    caps = FCCaps(n_in=2, d_in=1, n_out=2, d_out=1)
    with torch.no_grad():
        caps.W.copy_(torch.tensor([[1.0, 1.0], [2.0, -1.0]]).view(2, 2, 1, 1))
    x = torch.tensor([[[1.0], [2.0]]])  # two input capsules of one dimension
    # u[0] = (1, 2), u[1] = (2, -2); agreement a[n, i] = u[n, i] * sum_k u[n, k] / sqrt(1)
    # a[0] = (3, 6), a[1] = (0, 0); c = softmax over n; s[n] = sum_i c[n, i] u[n, i]
    c0 = [math.exp(3) / (math.exp(3) + 1), math.exp(6) / (math.exp(6) + 1)]
    s = [c0[0] * 1 + c0[1] * 2, (1 - c0[0]) * 2 + (1 - c0[1]) * -2]
    expected = [math.copysign(1 - math.exp(-abs(v)), v) for v in s]
    assert caps(x).flatten().tolist() == pytest.approx(expected, rel=1e-5)


def test_margin_loss_by_hand():
    lengths = torch.tensor([[0.95, 0.2], [0.5, 0.05]])
    # sample 1: 0 + 0.5 * (0.2 - 0.1)^2 = 0.005; sample 2: (0.9 - 0.5)^2 + 0 = 0.16; mean 0.0825
    assert margin_loss(lengths, torch.tensor([0, 0])).item() == pytest.approx(0.0825)


def test_reconstruction_loss_only_while_training():
    torch.manual_seed(0)
    model = get_model("efficient_capsnet_decoder")
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([1, 2, 3, 4])
    model.train()
    out = model(x)
    assert model.loss(out, y) > margin_loss(out, y)
    model.eval()
    out = model(x)
    assert model.loss(out, y) == margin_loss(out, y)


def test_recipes_keep_the_source_values():
    assert resolve_config("spinalnet", "source").epochs == 200
    full = resolve_config("spinalnet", "full")
    assert (full.optimizer, full.lr, full.batch_size, full.augment) == ("adam", 0.005, 100, "spinal")
    caps = resolve_config("efficient_capsnet", "full")
    assert (caps.lr, caps.gamma, caps.batch_size, caps.augment, caps.epochs) == (5e-4, 0.97, 16, "capsnet", 30)
    assert resolve_config("efficient_capsnet", "source").epochs == 150
    small = resolve_config("spinalnet_small", "full")
    assert (small.optimizer, small.lr, small.momentum, small.nesterov) == ("sgd", 0.01, 0.5, False)
    assert resolve_config("resnet", "quick").train_subset == 2000
    assert resolve_config("shao_cnn", "source") == resolve_config("shao_cnn", "full")


@pytest.mark.parametrize("name", ["affine", "spinal", "capsnet"])
def test_augmentations_are_batched_seeded_and_change_the_images(name):
    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 8:20, 10:18] = 1.0
    a = build_augmentation(name, torch.Generator().manual_seed(0))(x)
    b = build_augmentation(name, torch.Generator().manual_seed(0))(x)
    assert a.shape == x.shape and torch.equal(a, b) and not torch.allclose(a, x)
    assert build_augmentation("none", torch.Generator()) is None
    with pytest.raises(ValueError, match="capsnet"):
        build_augmentation("mixup", torch.Generator())


def test_perspective_without_distortion_or_rotation_is_the_identity():
    x = torch.rand(4, 1, 28, 28)
    assert torch.allclose(RandomPerspectiveRotation(distortion=0.0, degrees=0.0)(x), x, atol=1e-5)


def test_capsnet_erase_blanks_one_4x4_patch():
    out = CapsNetAugment(background=0.0, generator=torch.Generator().manual_seed(3))(torch.ones(6, 1, 28, 28))
    assert ((out < 0.5).flatten(1).sum(1) == 16).all()
