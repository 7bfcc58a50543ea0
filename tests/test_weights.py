"""Committed weights are named, typed entries (issue 32): the registry resolves them by name, checks each file
against the checksum recorded when it was committed, and refuses a changed or unknown one by name; export
refuses a file that is not a state dict, or one that does not fit the model its record names."""
import shutil

import pytest
import torch

from mnistlib.cli import main
from mnistlib.data import REPOSITORY_ROOT
from mnistlib.study import STUDY_OUT, WeightsError, get_weights, registry
from mnistlib.study.weights import sha256_of, write_index

STUDY = REPOSITORY_ROOT / STUDY_OUT


def test_every_committed_weights_file_matches_its_recorded_checksum_and_builds_its_model():
    found = registry(STUDY)
    assert "shao_cnn-improved-full-seed0" in found and "gecco-full-seed0" in found
    for name, weights in found.items():
        assert sha256_of(weights.file) == weights.sha256, name
        assert weights.record.seed == 0 and weights.file.name == f"{name}.weights.pt"
    shao = found["shao_cnn-improved-full-seed0"]
    assert shao.metrics["params"] == 354_138 and shao.metrics["test_accuracy"] == shao.record.test_accuracy
    assert not shao.build().training


@pytest.fixture
def copied_study(tmp_path):
    """A study folder holding a copy of one committed run (record and weights) and its index."""
    name = "shao_cnn-full-seed0"
    (tmp_path / "runs").mkdir()
    for suffix in (".json", ".weights.pt"):
        shutil.copy(STUDY / "runs" / f"{name}{suffix}", tmp_path / "runs" / f"{name}{suffix}")
    write_index(tmp_path)
    return tmp_path, name


def test_a_changed_weights_file_is_refused_by_name(copied_study):
    study, name = copied_study
    weights = get_weights(name, study)
    weights.state_dict()  # as committed: accepted
    state = torch.load(weights.file, weights_only=True)
    first = next(iter(state))
    state[first] = state[first] + 1e-3
    torch.save(state, weights.file)
    with pytest.raises(WeightsError, match=f"weights {name}: .* changed since it was committed"):
        weights.build()


def test_an_unknown_name_is_refused_with_the_known_ones(copied_study):
    study, name = copied_study
    with pytest.raises(WeightsError, match=f"no committed weights called 'nope'.*known: {name}"):
        get_weights("nope", study)


def test_export_refuses_what_is_not_a_state_dict_and_weights_of_another_model(copied_study, tmp_path, capsys):
    study, name = copied_study
    runs = study / "runs"
    (runs / f"{name}.weights.pt").unlink()
    (study / "weights.json").unlink()  # files outside any registry: export reads them as they are
    junk = runs / f"{name}.weights.pt"
    junk.write_text("not a tensor file")
    assert main(["export", str(junk), "--onnx", str(tmp_path / "x.onnx")]) == 1
    error = capsys.readouterr().err.strip()
    assert "is not a state dict" in error and len(error.splitlines()) == 1

    other = get_weights("gecco-full-seed0", STUDY).state_dict()  # GECCO's weights beside shao_cnn's record
    torch.save(other, junk)
    assert main(["export", str(junk), "--onnx", str(tmp_path / "x.onnx")]) == 1
    error = capsys.readouterr().err.strip()
    assert "does not fit shao_cnn, the model its record names" in error and len(error.splitlines()) == 1
