import dataclasses
from pathlib import Path

import pytest
import torch

from app.inference.architecture import (
    PRESETS,
    CheckpointRejected,
    build_sam,
    infer_architecture,
    load_sam,
    read_state_dict,
)
from app.inference.checkpoints import (
    OFFICIAL_CHECKPOINTS,
    ChecksumMismatch,
    checkpoint_sha256,
    sha256_file,
    verify_official,
)


@pytest.mark.parametrize("name", ["vit_b", "vit_l", "vit_h", "vit_t"])
def test_official_architectures_are_recognised_from_tensor_shapes(name):
    with torch.device("meta"):
        state = build_sam(PRESETS[name]).state_dict()
    assert infer_architecture(state) == PRESETS[name]


def test_tiny_checkpoint_architecture_is_inferred_and_loads(tiny_sam_checkpoint):
    state = read_state_dict(tiny_sam_checkpoint)
    arch = infer_architecture(state)
    assert (arch.embed_dim, arch.depth, arch.num_heads, arch.global_attn_indexes) == (32, 2, 2, ())
    assert arch.window_size == 14 and arch.mlp_ratio == 2.0
    sam = load_sam(state, arch)
    assert torch.equal(sam.mask_decoder.iou_token.weight, state["mask_decoder.iou_token.weight"])


def test_forced_model_type_that_does_not_fit_names_the_tensors(tiny_sam_checkpoint):
    state = read_state_dict(tiny_sam_checkpoint)
    with pytest.raises(CheckpointRejected, match=r"patch_embed\.proj\.weight has shape"):
        load_sam(state, infer_architecture(state, forced="vit_b"))


def test_state_dict_with_a_wrong_and_a_missing_tensor_is_refused(tiny_sam_checkpoint, tmp_path):
    state = read_state_dict(tiny_sam_checkpoint)
    state["mask_decoder.iou_token.weight"] = torch.zeros(2, 256)
    del state["prompt_encoder.no_mask_embed.weight"]
    with pytest.raises(CheckpointRejected) as info:
        load_sam(state, infer_architecture(state))
    assert "mask_decoder.iou_token.weight has shape (2, 256), expected (1, 256)" in str(info.value)
    assert "missing prompt_encoder.no_mask_embed.weight" in str(info.value)


class _Payload:
    """Unpickling this would create a file: the weights-only loader must never do it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_checkpoint_carrying_code_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"image_encoder.pos_embed": _Payload(marker)}, path)
    with pytest.raises(CheckpointRejected, match="not a plain weights file"):
        read_state_dict(path)
    assert not marker.exists()


def test_damaged_file_is_refused(tmp_path, tiny_sam_checkpoint):
    path = tmp_path / "cut.pth"
    path.write_bytes(tiny_sam_checkpoint.read_bytes()[:5000])
    with pytest.raises(CheckpointRejected, match="could not read"):
        read_state_dict(path)


def test_nested_fine_tune_state_dict_is_unwrapped(tmp_path, tiny_sam_checkpoint):
    state = read_state_dict(tiny_sam_checkpoint)
    path = tmp_path / "nested.pth"
    torch.save({"model": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}, path)
    assert read_state_dict(path).keys() == state.keys()


def test_official_hashes_are_pinned_and_checked(tmp_path):
    for arch, checkpoint in OFFICIAL_CHECKPOINTS.items():
        assert len(checkpoint.sha256) == 64 and checkpoint.url.startswith("https://")
        assert checkpoint.arch == arch
    fake = tmp_path / "sam_vit_b_01ec64.pth"
    fake.write_bytes(b"not the real file")
    with pytest.raises(ChecksumMismatch, match="expected ec2df627"):
        verify_official(fake, "vit_b")


def test_checkpoint_hash_is_remembered_and_refreshed_on_change(tmp_path):
    path = tmp_path / "a.pth"
    path.write_bytes(b"one")
    assert checkpoint_sha256(path, tmp_path) == sha256_file(path)
    assert (tmp_path / "sha256-index.json").is_file()
    path.write_bytes(b"two, longer")
    assert checkpoint_sha256(path, tmp_path) == sha256_file(path)


def test_presets_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["vit_b"].depth = 3  # type: ignore[misc]
