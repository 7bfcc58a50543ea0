"""Bad input gets one clear line and a non-zero exit (issue 32): a malformed repository URL for ``sync``, an
unknown profile or a missing chapter for ``book``, ``MNIST_DATA`` pointing at a folder of other files, and a
results folder holding a corrupted record (refused by name, the other runs still summarised)."""
from __future__ import annotations

import shutil

import pytest

from mnistlib.cli import main
from mnistlib.course import launch
from mnistlib.course.book import check_contents
from mnistlib.data import REPOSITORY_ROOT
from mnistlib.study import STUDY_OUT

STUDY = REPOSITORY_ROOT / STUDY_OUT


def one_error_line(capsys, *argv) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and err.startswith("mnistlib: error: "), (code, err)
    return err


def course_copy(tmp_path):
    """The files ``sync`` and ``book`` read, copied: ``_config.yml``, ``_toc.yml``, the book and notebooks."""
    for name in ("_config.yml", "_toc.yml", "README.md"):
        shutil.copy(REPOSITORY_ROOT / name, tmp_path / name)
    for folder in ("book", "notebooks"):
        shutil.copytree(REPOSITORY_ROOT / folder, tmp_path / folder)
    return tmp_path


@pytest.mark.parametrize("url", ["github.com/owner/name", "https://gitlab.com/owner/name",
                                 "https://github.com/owner", "https://github.com/owner/name/tree/main"])
def test_sync_refuses_a_malformed_repository_url(tmp_path, monkeypatch, capsys, url):
    root = course_copy(tmp_path)
    config = (root / "_config.yml").read_text()
    start = config.index("url:", config.index("repository:"))
    end = config.index("\n", start)
    (root / "_config.yml").write_text(config[:start] + f"url: {url}" + config[end:])
    before = {p: p.read_text() for p in (root / "notebooks").glob("*.ipynb")}
    monkeypatch.setattr(launch, "ROOT", root)
    monkeypatch.setattr(launch.sync, "__defaults__", (root,))
    err = one_error_line(capsys, "sync")
    assert repr(url.rstrip("/")) in err and "https://github.com/<owner>/<name>" in err
    assert {p: p.read_text() for p in before} == before  # nothing rewritten


def test_book_refuses_an_unknown_profile(capsys):
    assert main(["book", "--profile", "huge"]) == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err
    from mnistlib.course.book import build_book

    with pytest.raises(ValueError, match="unknown profile 'huge': choose one of"):
        build_book("huge")


def test_plan_refuses_an_unknown_path_or_model_before_timing_anything(capsys, tmp_path):
    assert main(["plan", "--results", str(tmp_path), "--measure-paths", "resnet", "--paths", "fast"]) == 2
    assert "unknown path 'fast': choose from 'eager', 'eager, channels-last', 'compiled'" in capsys.readouterr().err
    assert main(["plan", "--results", str(tmp_path), "--measure-paths", "resnet50"]) == 1
    assert "unknown model 'resnet50'" in capsys.readouterr().err
    assert not (tmp_path / "full").exists()


def test_book_names_a_missing_or_unlisted_chapter_before_running_anything(tmp_path):
    root = course_copy(tmp_path)
    assert "notebooks/05_gecco" in check_contents(root)
    (root / "notebooks" / "05_gecco.ipynb").rename(root / "05_gecco.ipynb")
    with pytest.raises(ValueError, match=r"_toc.yml lists notebooks/05_gecco, which does not exist"):
        check_contents(root)
    (root / "05_gecco.ipynb").rename(root / "notebooks" / "07_extra.ipynb")
    toc = (root / "_toc.yml").read_text()
    (root / "_toc.yml").write_text(toc.replace("  - file: notebooks/05_gecco\n", ""))
    with pytest.raises(ValueError, match=r"07_extra.ipynb is not in _toc.yml"):
        check_contents(root)


def test_mnist_data_pointing_at_other_files_says_what_it_found(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "downloads"
    folder.mkdir()
    for name in ("notes.txt", "cat.png", "mnist.npz"):
        (folder / name).write_bytes(b"not mnist")
    monkeypatch.setenv("MNIST_DATA", str(folder))
    err = one_error_line(capsys, "train", "shao_cnn", "--profile", "smoke", "--out", str(tmp_path / "out"))
    assert f"{folder} (from $MNIST_DATA) lacks train-images-idx3-ubyte" in err
    assert "(it holds cat.png, mnist.npz, notes.txt)" in err


def test_a_corrupted_record_is_refused_by_name_and_the_rest_summarised(tmp_path, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    for seed in range(3):
        shutil.copy(STUDY / "runs" / f"shao_cnn-full-seed{seed}.json", runs)
    broken = runs / "shao_cnn-full-seed2.json"
    broken.write_text(broken.read_text()[:500])  # cut off mid-write by hand
    err = one_error_line(capsys, "reproduce", "--summary-only", "--models", "shao_cnn", "--out", str(tmp_path))
    assert f"{broken} is not a run record" in err and "the summary covers the other 2 run(s)" in err
    summary = (tmp_path / "summary.md").read_text()
    assert "| mnist | shao_cnn |" in summary and "(n=2)" in summary



def test_a_failed_download_is_one_line(tmp_path):
    from mnistlib.data import DataError, get_spec
    from mnistlib.data.locate import download

    with pytest.raises(DataError) as error:
        download(get_spec("mnist"), tmp_path, mirrors=["http://127.0.0.1:9/"])  # nothing listens on port 9
    assert "not found locally and the download failed" in str(error.value)
    assert len(str(error.value).splitlines()) == 1
