"""INT8 and FP16 variants with onnxruntime.quantization / onnxconverter-common.

INT8 candidates:
  * static QDQ: per-channel int8 weights, uint8 activations calibrated on real speech windows;
    applies to Conv / MatMul / Gemm (CAM++ is all convolutions).
  * dynamic: int8 weights (per tensor, or per channel), activations quantized at run time; the only option for LSTM
    (DynamicQuantizeLSTM), also covers MatMul/Gemm (and Conv, via ConvInteger).
Nodes named in `keep_float` stay float32 (layers that hurt parity).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from .calib import WindowReader
from .onnxutil import compact_names, cosine_rows, metadata, run, session, set_metadata


def _pre_process(source: Path, work: Path) -> Path:
    """Symbolic shape inference + ORT graph optimizations (folds batch norms into convs), as the ORT
    quantization docs recommend before quantizing."""
    source, out = source.resolve(), work.resolve() / "pre.onnx"
    # Symbolic shape inference writes scratch files (sym_shape_infer_temp.onnx and uuid-named external
    # data) into the current folder and leaves them there when it gives up: keep them in `work`.
    here = os.getcwd()
    os.chdir(work)
    try:
        try:
            quant_pre_process(str(source), str(out), skip_symbolic_shape=False)
        except Exception:  # noqa: BLE001 - symbolic inference gives up on CAM++'s dynamic segment pooling
            quant_pre_process(str(source), str(out), skip_symbolic_shape=True)
    finally:
        os.chdir(here)
    return out


def _restore_metadata(path: Path, meta: dict[str, str], extra: dict[str, str]) -> None:
    """Puts the source's metadata back (the quantizer drops it) and shortens tensor names."""
    model = onnx.load(str(path))
    compact_names(model)
    del model.metadata_props[:]
    set_metadata(model, {**meta, **extra})
    onnx.save(model, str(path))


def quantize_static_qdq(source: Path, out: Path, windows: np.ndarray, keep_float: list[str], op_types: list[str] | None = None) -> None:
    meta = metadata(onnx.load(str(source), load_external_data=False))
    with tempfile.TemporaryDirectory() as tmp:
        pre = _pre_process(source, Path(tmp))
        input_name = onnx.load(str(pre), load_external_data=False).graph.input[0].name
        quantize_static(
            str(pre),
            str(out),
            WindowReader(input_name, windows),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=op_types or ["Conv", "MatMul", "Gemm"],
            nodes_to_exclude=keep_float,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"CalibMovingAverage": True},
        )
    _restore_metadata(out, meta, {"quantization": "int8 static QDQ, per-channel weights" + (f"; float: {', '.join(keep_float)}" if keep_float else "")})


def quantize_dynamic_int8(
    source: Path,
    out: Path,
    keep_float: list[str],
    op_types: list[str] | None = None,
    weight_only: list[str] | None = None,
    per_channel: bool = False,
    weight_only_group: int | None = None,
) -> None:
    """`per_channel`: one weight scale per output row (per LSTM gate unit) instead of one per tensor: on the
    stand-in this alone takes the cosine to FP32 from 0.993 to 0.998 at the same size and speed."""
    meta = metadata(onnx.load(str(source), load_external_data=False))
    with tempfile.TemporaryDirectory() as tmp:
        pre = _pre_process(source, Path(tmp))
        quantize_dynamic(
            str(pre),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            op_types_to_quantize=op_types or ["LSTM", "MatMul", "Gemm", "Conv"],
            nodes_to_exclude=keep_float,
        )
    if weight_only:
        weight_only_int8(out, weight_only, weight_only_group)
    grouping = f" (scale per {weight_only_group} weights)" if weight_only and weight_only_group else ""
    _restore_metadata(
        out,
        meta,
        {
            "quantization": f"int8 dynamic, {'per-channel' if per_channel else 'per-tensor'} weights"
            + (f"; float: {', '.join(keep_float)}" if keep_float else "")
            + (f"; int8 weights{grouping}, float compute: {', '.join(weight_only)}" if weight_only else "")
        },
    )


def convert_fp16(source: Path, out: Path, keep_float: list[str]) -> None:
    """FP16 weights and compute for GPU; inputs and outputs stay float32 so the runtime is unchanged."""
    from onnxconverter_common import float16

    model = onnx.load(str(source))
    meta = metadata(model)
    # An entry names a node or a prefix of node names ("/xvector/stats" keeps the statistics pooling in float32).
    blocked = [n.name for n in model.graph.node if any(n.name == k or n.name.startswith(k.rstrip("/") + "/") for k in keep_float)]
    converted = float16.convert_float_to_float16(model, keep_io_types=True, node_block_list=blocked or None, disable_shape_infer=False)
    del converted.metadata_props[:]
    set_metadata(converted, {**meta, "quantization": "fp16 (io float32)" + (f"; float32: {', '.join(keep_float)}" if keep_float else "")})
    onnx.save(converted, str(out))


def measure(candidate: Path, reference: Path, windows: np.ndarray, threads: int = 1, repeats: int = 5) -> dict[str, float]:
    """Cosine agreement with the reference on `windows`, and single-thread throughput (best of `repeats`)."""
    ref = run(session(reference, threads), windows)
    sess = session(candidate, threads)
    got = run(sess, windows)
    cos = cosine_rows(ref, got)
    batch = windows[: min(16, len(windows))]
    run(sess, batch)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(sess, batch)
        best = min(best, time.perf_counter() - t0)
    return {
        "cosMean": float(cos.mean()),
        "cosP5": float(np.percentile(cos, 5)),
        "windowsPerSec1T": float(len(batch) / best),
        "bytes": os.path.getsize(candidate),
    }


def weight_only_int8(path: Path, targets: list[str], group: int | None = None) -> list[str]:
    """In place: the float weights (W, R) of the named nodes become int8 initializers with symmetric scales
    behind DequantizeLinear; the op itself still computes in float (ONNX Runtime folds the dequantization
    into a constant when the session loads). For layers whose activations do not survive int8 (the
    stand-in's first LSTM reads mel power, whose range per-tensor dynamic quantization destroys) this still
    stores the weights in about a quarter of the bytes. `targets` are "node:W" or "node:R" (an LSTM's input
    or recurrent weights; "W" is also a MatMul's weight). Scales are per output row, or with `group` per
    run of `group` consecutive weights of a row (the row is cut into blocks; opset-13 DequantizeLinear on
    the blocks, then Reshape): the first LSTM's recurrent weights feed an error back every frame, and
    blocks of 32 halve their quantization error for 4 % more bytes. Returns the weights converted."""
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    inits = {t.name: t for t in model.graph.initializer}
    by_name = {n.name: n for n in model.graph.node}
    done: list[str] = []
    new_nodes = []
    for target in targets:
        node_name, _, which = target.rpartition(":")
        node = by_name.get(node_name)
        if node is None or which not in ("W", "R"):
            raise ValueError(f"weight-only int8: {target!r} names no node:W / node:R in {path}")
        slot = 1 if which == "W" else 2
        if slot >= len(node.input) or node.input[slot] not in inits:
            raise ValueError(f"weight-only int8: input {which} of {node_name} is not an initializer")
        name = node.input[slot]
        w = numpy_helper.to_array(inits[name]).astype(np.float32)  # e.g. [1, 4H, in]
        axis = 1 if w.ndim == 3 else 0  # LSTM [dirs, 4H, in]: a scale per gate row
        if group:
            if w.ndim != 3 or w.shape[-1] % group:
                raise ValueError(f"weight-only int8: {target} has shape {list(w.shape)}; blocks of {group} need an LSTM weight whose rows divide by {group}")
            blocks = w.reshape(w.shape[0], -1, group)  # [dirs, 4H * in / group, group]
        else:
            blocks = w
        reduce_axes = tuple(i for i in range(blocks.ndim) if i != axis)
        scale = np.maximum(np.abs(blocks).max(axis=reduce_axes), 1e-12) / 127.0
        shape = [1] * blocks.ndim
        shape[axis] = -1
        q = np.clip(np.round(blocks / scale.reshape(shape)), -127, 127).astype(np.int8)
        model.graph.initializer.remove(inits[name])
        model.graph.initializer.extend([
            numpy_helper.from_array(q, f"{name}_int8"),
            numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), f"{name}_zero"),
        ])
        dq_out = f"{name}_blocks" if group else name
        new_nodes.append(helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale", f"{name}_zero"], [dq_out], name=f"{name}_dq", axis=axis))
        if group:
            model.graph.initializer.append(numpy_helper.from_array(np.array(w.shape, dtype=np.int64), f"{name}_shape"))
            new_nodes.append(helper.make_node("Reshape", [dq_out, f"{name}_shape"], [name], name=f"{name}_reshape"))
        done.append(name)
    # Dequantization nodes go first so that the graph stays topologically sorted.
    nodes = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(new_nodes + nodes)
    onnx.save(model, str(path))
    return done
