"""Dequantizing onnxruntime's dynamic INT8 (MatMulInteger, ConvInteger, DynamicQuantizeLSTM) back to float."""
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from toolchain.dequantize import DequantizeError, dequantize_dynamic, segmentation_parity
from toolchain.onnxutil import session


class ConvLstmLinear(torch.nn.Module):
    """[N, 1, T] -> [N, T', 7]: the segmentation model's shape of work (conv front end, BiLSTM, linear head)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(1, 16, 5, stride=3)
        self.lstm = torch.nn.LSTM(16, 24, num_layers=2, bidirectional=True, batch_first=True)
        self.linear = torch.nn.Linear(48, 7)

    def forward(self, x):
        h = torch.nn.functional.leaky_relu(self.conv(x)).transpose(1, 2)
        out, _ = self.lstm(h)
        return torch.log_softmax(self.linear(out), dim=-1)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    work = tmp_path_factory.mktemp("deq")
    torch.manual_seed(0)
    model = ConvLstmLinear().eval()
    fp32 = work / "fp32.onnx"
    torch.onnx.export(model, torch.randn(1, 1, 3000), str(fp32), input_names=["x"], output_names=["y"], opset_version=13, dynamo=False)
    int8 = work / "int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Conv", "LSTM"])
    back = work / "float.onnx"
    counts = dequantize_dynamic(int8, back)
    return fp32, int8, back, counts


def ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def run(path: Path, x: np.ndarray) -> np.ndarray:
    """One chunk per call (the export has batch 1, like the segmentation model's parity check)."""
    sess = session(path)
    return np.concatenate([sess.run(None, {"x": c[None]})[0] for c in x])


def test_every_quantized_op_is_replaced(models):
    _, int8, back, counts = models
    assert {"DynamicQuantizeLSTM", "ConvInteger"} <= ops(int8)
    assert counts["DynamicQuantizeLSTM"] == 2 and counts["ConvInteger"] == 1
    assert not ops(back) & {"MatMulInteger", "ConvInteger", "DynamicQuantizeLSTM", "DynamicQuantizeLinear"}
    assert {"LSTM", "Conv"} <= ops(back)


def test_float_copy_matches_the_original_float_model_closer_than_int8(models):
    fp32, int8, back, _ = models
    x = np.random.default_rng(1).standard_normal((3, 1, 3000)).astype(np.float32)
    ref, q, f = run(fp32, x), run(int8, x), run(back, x)
    # Weights are the int8 ones, so not equal to fp32, but with no activation quantization closer than int8.
    # A wrong LSTM weight layout (gates or transpose) would put it far off instead.
    err_float, err_int8 = np.abs(np.exp(f) - np.exp(ref)).mean(), np.abs(np.exp(q) - np.exp(ref)).mean()
    assert err_float < 0.02
    assert err_float < err_int8
    assert (f.argmax(-1) == ref.argmax(-1)).mean() > 0.95


def test_weights_are_the_int8_values_times_their_scales(models):
    _, int8, back, _ = models
    q = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(int8)).graph.initializer}
    f = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(back)).graph.initializer}
    conv_q = next(n for n in q if n.endswith("_quantized") and q[n].ndim == 3 and q[n].shape[1] == 1)
    base = conv_q[: -len("_quantized")]
    expected = (q[conv_q].astype(np.float32) - q[f"{base}_zero_point"].astype(np.float32)) * q[f"{base}_scale"]
    np.testing.assert_allclose(f[f"{conv_q}_dequantized"], expected, rtol=0, atol=1e-7)


def test_parity_figures_name_agreement_and_speed(models):
    _, int8, back, _ = models
    chunks = np.random.default_rng(2).standard_normal((4, 1, 3000)).astype(np.float32)
    figures = segmentation_parity(back, int8, chunks, repeats=1)
    assert 0.9 < figures["frameAgreement"] <= 1.0
    assert figures["chunks"] == 4 and figures["msPerChunk1T"] > 0 and figures["sourceMsPerChunk1T"] > 0


def test_a_model_that_is_not_dynamic_quantized_is_left_as_is_or_refused(models, tmp_path):
    fp32, _, _, _ = models
    counts = dequantize_dynamic(fp32, tmp_path / "same.onnx")
    assert sum(counts.values()) == 0
    with pytest.raises(DequantizeError):
        from toolchain.dequantize import dev_chunks

        dev_chunks(tmp_path)


def test_only_the_named_ops_are_dequantized(models, tmp_path):
    """The `mixed` recipe: convolutions and matrix products float, the LSTMs still DynamicQuantizeLSTM."""
    fp32, int8, _, _ = models
    mixed = tmp_path / "mixed.onnx"
    counts = dequantize_dynamic(int8, mixed, ("ConvInteger", "MatMulInteger"))
    assert counts["DynamicQuantizeLSTM"] == 0 and counts["ConvInteger"] == 1
    assert "DynamicQuantizeLSTM" in ops(mixed)
    assert not ops(mixed) & {"MatMulInteger", "ConvInteger"}
    x = np.random.default_rng(3).standard_normal((3, 1, 3000)).astype(np.float32)
    assert (run(mixed, x).argmax(-1) == run(fp32, x).argmax(-1)).mean() > 0.95
    with pytest.raises(DequantizeError):
        dequantize_dynamic(int8, tmp_path / "bad.onnx", ("Gemm",))
