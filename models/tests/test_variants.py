"""Quantization round trip, pruning and calibration errors on small models (fast: no dev data needed)."""
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from toolchain.calib import EmptyCalibrationError, WindowReader, prepare
from toolchain.campplus import CAMPPlus, count_parameters, random_init
from toolchain.export import campplus_metadata, export_module
from toolchain.onnxutil import cosine_rows, metadata, recipe_hash, run, session
from toolchain.prune_campplus import prune_campplus
from toolchain.prune_lstm import lstm_forward, prune_lstm_model
from toolchain.quantize import convert_fp16, quantize_dynamic_int8, quantize_static_qdq


class TinyConv(torch.nn.Module):
    """[N, T, 80] -> [N, 16]: conv, relu, mean over time, linear (enough to exercise QDQ per-channel)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(80, 64, 3, padding=1)
        self.out = torch.nn.Linear(64, 16)

    def forward(self, x):
        return self.out(torch.relu(self.conv(x.transpose(1, 2))).mean(-1))


class TinyLstm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(80, 32, num_layers=3, batch_first=True)
        self.linear = torch.nn.Linear(32, 16)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return torch.relu(self.linear(h[-1]))


def speechlike(n: int, frames: int = 60, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 1, 80)) * 2 - 8
    return (base + rng.standard_normal((n, frames, 80))).astype(np.float32)


META = {"sample_rate": "16000", "normalize_samples": "1", "feature_normalize_type": "", "output_dim": "16"}


def export(model: torch.nn.Module, path: Path) -> Path:
    torch.manual_seed(0)
    export_module(model.eval(), path, META, frames=60)
    return path


def test_static_qdq_round_trip_keeps_contract_and_parity(tmp_path: Path):
    torch.manual_seed(0)
    src = export(TinyConv(), tmp_path / "tiny.onnx")
    out = tmp_path / "tiny.int8.onnx"
    windows = speechlike(32)
    quantize_static_qdq(src, out, windows, keep_float=[])
    proto = onnx.load(str(out))
    ops = {n.op_type for n in proto.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    weight_dq = [t for t in proto.graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 3]
    assert weight_dq, "conv weight stored as int8"
    scales = [t for t in proto.graph.initializer if t.data_type == onnx.TensorProto.FLOAT and list(t.dims) == [64]]
    assert scales, "per-channel weight scales"
    assert metadata(proto)["sample_rate"] == "16000" and "int8 static QDQ" in metadata(proto)["quantization"]
    test = speechlike(16, seed=1)
    cos = cosine_rows(run(session(src), test), run(session(out), test))
    assert cos.mean() > 0.99


def test_dynamic_quantization_of_lstm_and_fp16(tmp_path: Path):
    torch.manual_seed(0)
    src = export(TinyLstm(), tmp_path / "lstm.onnx")
    out = tmp_path / "lstm.int8.onnx"
    quantize_dynamic_int8(src, out, keep_float=[])
    assert "DynamicQuantizeLSTM" in {n.op_type for n in onnx.load(str(out)).graph.node}
    assert out.stat().st_size < 0.5 * src.stat().st_size
    half = tmp_path / "lstm.fp16.onnx"
    convert_fp16(src, half, keep_float=[])
    proto = onnx.load(str(half))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # io stays float32
    test = speechlike(8, seed=2)
    assert cosine_rows(run(session(src), test), run(session(half), test)).min() > 0.999


def test_per_channel_dynamic_int8_with_block_wise_weight_only_first_lstm(tmp_path: Path):
    """The stand-in's recipe on a tiny LSTM: layers 2-3 DynamicQuantizeLSTM with per-channel scales, the
    first LSTM in float with its recurrent weights stored int8 in blocks of 16 (DequantizeLinear + Reshape)."""
    torch.manual_seed(0)
    src = export(TinyLstm(), tmp_path / "lstm.onnx")
    r_float = next(
        onnx.numpy_helper.to_array(t) for t in onnx.load(str(src)).graph.initializer if list(t.dims) == [1, 128, 32]
    )

    def build(name: str, group: int | None) -> Path:
        out = tmp_path / name
        quantize_dynamic_int8(src, out, keep_float=["/lstm/LSTM"], weight_only=["/lstm/LSTM:R"], per_channel=True, weight_only_group=group)
        return out

    def r_error(path: Path) -> float:
        """Relative error of the first LSTM's dequantized recurrent weights (the model's own DequantizeLinear)."""
        proto = onnx.load(str(path))
        lstm = next(n for n in proto.graph.node if n.op_type == "LSTM")
        probe = onnx.helper.make_tensor_value_info(lstm.input[2], onnx.TensorProto.FLOAT, None)
        proto.graph.output.append(probe)
        probed = tmp_path / f"probe-{path.name}"
        onnx.save(proto, str(probed))
        r = session(probed).run([lstm.input[2]], {"x": speechlike(1)})[0]
        return float(np.linalg.norm(r - r_float) / np.linalg.norm(r_float))

    rows, blocks = build("rows.onnx", None), build("blocks.onnx", 16)
    proto = onnx.load(str(blocks))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("DynamicQuantizeLSTM") == 2 and ops.count("LSTM") == 1 and "Reshape" in ops
    assert any(t.data_type == onnx.TensorProto.INT8 and list(t.dims) == [1, 256, 16] for t in proto.graph.initializer)
    assert "per-channel" in metadata(proto)["quantization"] and "scale per 16 weights" in metadata(proto)["quantization"]
    assert 0 < r_error(blocks) < r_error(rows) < 0.01
    test = speechlike(16, seed=5)
    assert cosine_rows(run(session(src), test), run(session(blocks), test)).mean() > 0.99
    with pytest.raises(ValueError, match="blocks of 24"):
        build("bad.onnx", 24)


def test_lstm_pruning_makes_smaller_layers_and_numpy_lstm_matches_onnx(tmp_path: Path):
    torch.manual_seed(0)
    model = TinyLstm().eval()
    src = export(model, tmp_path / "lstm.onnx")
    x = speechlike(4, seed=3)
    with torch.no_grad():
        ys, _ = model.lstm(torch.from_numpy(x))
    p = dict(model.lstm.named_parameters())
    # torch gate order i, f, g, o -> ONNX i, o, f, c
    def onnx_order(w):
        i, f, g, o = np.split(w, 4)
        return np.concatenate([i, o, f, g])
    y = x.transpose(1, 0, 2)
    for layer in range(3):
        W = onnx_order(p[f"weight_ih_l{layer}"].detach().numpy())
        R = onnx_order(p[f"weight_hh_l{layer}"].detach().numpy())
        B = np.concatenate([onnx_order(p[f"bias_ih_l{layer}"].detach().numpy()), onnx_order(p[f"bias_hh_l{layer}"].detach().numpy())])
        y = lstm_forward(y, W, R, B)
    np.testing.assert_allclose(y.transpose(1, 0, 2), ys.numpy(), atol=1e-5)

    out = tmp_path / "lstm.pruned.onnx"
    info = prune_lstm_model(src, out, speechlike(16, seed=4), fraction=0.25)
    assert info["hiddenUnits"] == [32, 24]
    proto = onnx.load(str(out))
    for node in proto.graph.node:
        if node.op_type == "LSTM":
            assert next(a.i for a in node.attribute if a.name == "hidden_size") == 24
    assert run(session(out), x).shape == (4, 16)
    assert out.stat().st_size < src.stat().st_size


def test_campplus_channel_pruning_gives_smaller_convolutions(tmp_path: Path):
    model = random_init(CAMPPlus(embedding_size=192), 0)
    before = count_parameters(model)
    windows = speechlike(4, frames=120)
    windows -= windows.mean(axis=1, keepdims=True)
    info = prune_campplus(model, 0.4, windows)
    assert info["bottleneckChannels"] == [52 * 128, 52 * 77]
    assert model.xvector.block2.tdnnd5.linear1.out_channels == 77
    assert model.xvector.block2.tdnnd5.cam_layer.linear_local.in_channels == 77
    assert count_parameters(model) < 0.8 * before
    out = tmp_path / "pruned.onnx"
    export_module(model, out, campplus_metadata(192, 0, None))
    assert run(session(out), windows).shape == (4, 192)


def test_empty_calibration_data_is_a_clear_error():
    with pytest.raises(EmptyCalibrationError, match="no calibration windows"):
        prepare(np.zeros((0, 150, 80), np.float32), global_mean=True)
    with pytest.raises(EmptyCalibrationError):
        WindowReader("x", np.zeros((0, 150, 80), np.float32))
    with pytest.raises(EmptyCalibrationError, match="not found"):
        from toolchain.calib import load_windows
        load_windows("/nonexistent/calib.npy", False)


def test_recipe_hash_is_canonical_json():
    # The TypeScript side (server/src/models/variants.ts) hashes the same canonical JSON.
    assert recipe_hash({"b": [1, 0.5], "a": "x"}) == recipe_hash({"a": "x", "b": [1, 0.5]})
    import hashlib
    assert recipe_hash({"b": [1, 0.5], "a": "x"}) == hashlib.sha256(b'{"a":"x","b":[1,0.5]}').hexdigest()
