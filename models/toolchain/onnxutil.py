"""Small ONNX helpers shared by the export, variant and test code."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def recipe_hash(recipe: Any) -> str:
    """Hash of a recipe object as canonical JSON (sorted keys, no spaces): the TS side computes the same."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def metadata(model: onnx.ModelProto) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def set_metadata(model: onnx.ModelProto, values: dict[str, str]) -> None:
    existing = {p.key: p for p in model.metadata_props}
    for key, value in values.items():
        if key in existing:
            existing[key].value = str(value)
        else:
            model.metadata_props.add(key=key, value=str(value))


def count_weights(model: onnx.ModelProto) -> int:
    """Elements in the initializers (weights, biases, batch-norm statistics, quantization scales)."""
    return int(sum(int(np.prod(t.dims)) if len(t.dims) else 1 for t in model.graph.initializer))


def session(path: str | Path, threads: int = 1) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run(sess: ort.InferenceSession, feats: np.ndarray) -> np.ndarray:
    return sess.run(None, {sess.get_inputs()[0].name: feats.astype(np.float32)})[0]


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.sum(a * b, axis=1)


def check_embedding_contract(path: str | Path, num_mel_bins: int = 80) -> dict[str, str]:
    """The engine's contract: one float input [N, T, bins], one float output [N, D], sherpa-onnx metadata.
    Raises ValueError saying what is wrong (used on sources before deriving variants)."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # noqa: BLE001 - protobuf raises several types
        raise ValueError(f"{path} is not a readable ONNX model ({error}); the file may be truncated: re-download or rebuild it") from error
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        raise ValueError(f"{path}: expected one input and one output, found {len(inputs)} and {len(model.graph.output)}")
    in_dims = inputs[0].type.tensor_type.shape.dim
    out_dims = model.graph.output[0].type.tensor_type.shape.dim
    if len(in_dims) != 3:
        raise ValueError(f"{path}: input '{inputs[0].name}' has rank {len(in_dims)}; expected log fbank [N, T, {num_mel_bins}] (rank 3)")
    if in_dims[2].HasField("dim_value") and in_dims[2].dim_value != num_mel_bins:
        raise ValueError(f"{path}: input '{inputs[0].name}' has {in_dims[2].dim_value} bins; expected {num_mel_bins}")
    if len(out_dims) != 2:
        raise ValueError(f"{path}: output '{model.graph.output[0].name}' has rank {len(out_dims)}; expected an embedding [N, D]")
    meta = metadata(model)
    missing = [k for k in ("sample_rate", "normalize_samples", "feature_normalize_type") if k not in meta]
    if missing:
        raise ValueError(f"{path}: lacks metadata {missing}")
    return meta


def compact_names(model: onnx.ModelProto) -> None:
    """In place: short names for nodes, initializers and intermediate tensors (graph inputs and outputs keep
    theirs). A QDQ CAM++ has ~2,000 tensors whose exporter names cost about a megabyte."""
    keep = {v.name for v in model.graph.input} | {v.name for v in model.graph.output}
    mapping: dict[str, str] = {}

    def short(name: str) -> str:
        if not name or name in keep:
            return name
        if name not in mapping:
            mapping[name] = f"t{len(mapping)}"
        return mapping[name]

    for t in model.graph.initializer:
        t.name = short(t.name)
    for i, node in enumerate(model.graph.node):
        node.name = f"n{i}"
        node.input[:] = [short(x) for x in node.input]
        node.output[:] = [short(x) for x in node.output]
    for v in model.graph.value_info:
        v.name = short(v.name)
