"""CAM++ architecture: parameter counts of the published configurations, checkpoint loading, export contract."""
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from toolchain.campplus import CAMPPlus, CheckpointMismatchError, count_parameters, load_checkpoint, random_init
from toolchain.export import campplus_metadata, export_module
from toolchain.onnxutil import check_embedding_contract, metadata, run, session


@pytest.mark.parametrize("embedding_size, published", [(512, 7.18e6), (192, 6.85e6)])
def test_parameter_count_matches_the_paper(embedding_size, published):
    n = count_parameters(CAMPPlus(embedding_size=embedding_size))
    assert abs(n - published) / published <= 0.005, n


def test_parameter_names_follow_the_3dspeaker_checkpoints():
    keys = set(CAMPPlus(embedding_size=192).state_dict())
    for key in [
        "head.conv1.weight", "head.bn1.running_var", "head.layer1.0.conv1.weight", "head.layer1.0.shortcut.0.weight",
        "head.layer2.1.bn2.bias", "head.conv2.weight", "head.bn2.weight",
        "xvector.tdnn.linear.weight", "xvector.tdnn.nonlinear.batchnorm.weight",
        "xvector.block1.tdnnd1.nonlinear1.batchnorm.weight", "xvector.block1.tdnnd1.linear1.weight",
        "xvector.block1.tdnnd12.cam_layer.linear_local.weight", "xvector.block2.tdnnd24.cam_layer.linear1.bias",
        "xvector.block3.tdnnd16.cam_layer.linear2.weight", "xvector.transit3.linear.weight",
        "xvector.out_nonlinear.batchnorm.running_mean", "xvector.dense.linear.weight", "xvector.dense.nonlinear.batchnorm.running_var",
    ]:
        assert key in keys, key
    assert "xvector.dense.nonlinear.batchnorm.weight" not in keys  # affine=False, as published
    assert "xvector.block4.tdnnd1.linear1.weight" not in keys


def test_strict_load_round_trip_and_wrapped_checkpoints():
    source = random_init(CAMPPlus(embedding_size=192), seed=3)
    target = CAMPPlus(embedding_size=192)
    load_checkpoint(target, {"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}})
    x = torch.randn(2, 120, 80)
    assert torch.allclose(source(x), target(x))


def test_checkpoint_with_missing_or_unexpected_keys_is_a_clear_error():
    state = random_init(CAMPPlus(embedding_size=192), seed=0).state_dict()
    missing = {k: v for k, v in state.items() if not k.startswith("xvector.dense")}
    with pytest.raises(CheckpointMismatchError, match=r"missing key\(s\): xvector\.dense"):
        load_checkpoint(CAMPPlus(embedding_size=192), missing)
    extra = {**state, "classifier.weight": torch.zeros(3)}
    with pytest.raises(CheckpointMismatchError, match=r"1 unexpected key\(s\): classifier\.weight"):
        load_checkpoint(CAMPPlus(embedding_size=192), extra)
    with pytest.raises(CheckpointMismatchError, match=r"shape mismatch.*xvector\.dense\.linear\.weight.*embedding-size"):
        load_checkpoint(CAMPPlus(embedding_size=512), state)


def test_export_signature_metadata_and_parity(tmp_path: Path):
    model = random_init(CAMPPlus(embedding_size=192), seed=0)
    out = tmp_path / "campplus.onnx"
    export_module(model, out, campplus_metadata(192, 0, None))
    proto = onnx.load(str(out))
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["embedding"]
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", "T", 80]
    assert [d.dim_param or d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim][0] == "N"
    assert proto.opset_import[0].version == 13
    meta = metadata(proto)
    assert meta["framework"] == "3d-speaker" and meta["output_dim"] == "192" and meta["sample_rate"] == "16000"
    assert meta["normalize_samples"] == "1" and meta["feature_normalize_type"] == "global-mean"
    assert {"language", "url", "comment"} <= set(meta) and "UNTRAINED" in meta["comment"]
    check_embedding_contract(out)
    sess = session(out)
    for frames in (37, 100, 151, 301):  # segment pooling with a partial last segment
        x = np.random.default_rng(frames).standard_normal((2, frames, 80)).astype(np.float32)
        got = run(sess, x)
        assert got.shape == (2, 192)
        np.testing.assert_allclose(got, model(torch.from_numpy(x)).detach().numpy(), atol=1e-4)


def test_wrong_input_rank_and_truncated_file_are_clear_errors(tmp_path: Path):
    class Flat(torch.nn.Module):
        def forward(self, x):
            return x[:, :192]

    flat = tmp_path / "rank2.onnx"
    torch.onnx.export(Flat(), (torch.zeros(1, 400),), str(flat), input_names=["x"], output_names=["embedding"], opset_version=13, dynamo=False)
    with pytest.raises(ValueError, match="rank 2; expected log fbank"):
        check_embedding_contract(flat)
    good = tmp_path / "good.onnx"
    export_module(random_init(CAMPPlus(embedding_size=192), 0), good, campplus_metadata(192, 0, None))
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(ValueError, match="not a readable ONNX model.*truncated"):
        check_embedding_contract(truncated)
