"""Profiles and config validation."""
import pytest

from mnistlib.training.config import TrainConfig, resolve_config


def test_full_profile_is_the_paper_recipe():
    c = resolve_config("shao_cnn", "full")
    assert (c.batch_size, c.optimizer, c.lr, c.schedule, c.gamma, c.patience) == (1000, "adam", 1e-3, "exponential", 0.99, 2)
    assert c.train_subset is None


def test_smoke_and_quick_limits_and_overrides():
    smoke = resolve_config("shao_cnn", "smoke")
    assert (smoke.epochs, smoke.train_subset, smoke.batch_size) == (1, 3000, 100)
    assert resolve_config("baseline_cnn", "smoke").batch_size == 64  # a cap, not a value
    assert resolve_config("shao_cnn", "quick").epochs == 3
    assert resolve_config("shao_cnn", "quick", epochs=5, lr=None).epochs == 5


@pytest.mark.parametrize("bad, message", [({"epochs": 0}, "epochs"), ({"lr": -1}, "lr"),
                                          ({"optimizer": "rmsprop"}, "optimizer"), ({"schedule": "cosine"}, "schedule")])
def test_bad_config_is_refused_with_the_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**bad)


def test_unknown_profile():
    with pytest.raises(ValueError, match="smoke, quick, full"):
        resolve_config("shao_cnn", "huge")
