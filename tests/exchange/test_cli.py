"""The export / import / eval commands on the data directory the app wrote."""

from __future__ import annotations

import json

import pytest

from app.cli import main


@pytest.fixture
def cli_env(monkeypatch, settings):
    monkeypatch.setenv("LASSOLABEL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LASSOLABEL_SEED_DEMO", "false")


def test_export_import_eval_from_the_command_line(client, labelled, cli_env, tmp_path, capsys):
    out = tmp_path / "out"
    ref = str(labelled.project_id)
    assert main(["export", ref, "--format", "coco", "--out", str(out)]) == 0
    assert (out / "annotations.json").is_file() and (out / "README.txt").is_file()
    assert (
        main(["import", "test project", str(out / "annotations.json"), "--as", "ground-truth"]) == 0
    )
    report = tmp_path / "eval.json"
    assert main(["eval", ref, "--json", str(report)]) == 0
    figures = json.loads(report.read_text())
    assert figures["miou"] == 1.0 and figures["gt_instances"] == 5
    assert "mIoU 1.000" in capsys.readouterr().out
    assert main(["eval", ref, "--labelling", "--json", str(report)]) == 0
    progress = json.loads(report.read_text())["labelling"]
    # The unlabelled stray has no ground truth under it: ambiguous, left out of accuracy.
    # The fixture writes labels straight into the database: nobody saw them.
    assert progress | {"actions": 0} == {
        "actions": 0, "segments": 6, "ambiguous": 1, "labelled": 5, "confirmed": 0,
        "correct": 5, "accuracy": 1.0,
    }  # fmt: skip
    assert "labelling actions=" in capsys.readouterr().out


def test_yolo_folder_import_from_the_command_line(client, labelled, cli_env, tmp_path, capsys):
    out = tmp_path / "yolo"
    ref = str(labelled.project_id)
    assert main(["export", ref, "--format", "yolo-seg", "--out", str(out), "--no-images"]) == 0
    assert main(["import", ref, str(out), "--format", "yolo-seg", "--as", "ground-truth"]) == 0
    assert "imported 7 masks on 2 images" in capsys.readouterr().out


def test_unknown_project_is_a_clean_error(cli_env, tmp_path, capsys):
    assert main(["export", "nope", "--format", "csv", "--out", str(tmp_path)]) == 2
    assert "no project 'nope'" in capsys.readouterr().out
