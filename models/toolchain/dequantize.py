"""Float copy of a dynamically quantized ONNX model (onnxruntime's quantize_dynamic output).

CPUs without VNNI run MatMulInteger / ConvInteger / DynamicQuantizeLSTM through slow int8 paths, so
the same weights in float can be faster there. Each quantized op is replaced by its float op with
weights (q - zero_point) * scale; the activations' DynamicQuantizeLinear and the scale Mul / Cast glue
around it are dropped. The result computes what the int8 model approximates, from the int8 weights
(the original float weights are not shipped). Hand-written: onnxruntime has no dequantizer for
dynamic-quantized graphs, only for QDQ ones.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


class DequantizeError(ValueError):
    pass


def _float_weight(inits: dict[str, np.ndarray], q: str, scale: str, zero: str) -> np.ndarray:
    wq, s, z = inits[q].astype(np.float32), inits[scale].astype(np.float32), inits[zero].astype(np.float32)
    return (wq - z) * s


def _lstm_weight(inits: dict[str, np.ndarray], q: str, scale: str, zero: str) -> np.ndarray:
    """DynamicQuantizeLSTM keeps W as [dirs, in, 4h] with one scale per direction (or per output column);
    ONNX LSTM wants [dirs, 4h, in]."""
    wq = inits[q].astype(np.float32)
    s, z = inits[scale].astype(np.float32), inits[zero].astype(np.float32)
    shape = (wq.shape[0], 1, 1) if s.ndim == 1 else (wq.shape[0], 1, wq.shape[2])
    return np.ascontiguousarray(((wq - z.reshape(shape)) * s.reshape(shape)).transpose(0, 2, 1))


QUANTIZED_OPS = ("MatMulInteger", "ConvInteger", "DynamicQuantizeLSTM")


def dequantize_dynamic(source: Path, out: Path, ops: tuple[str, ...] = QUANTIZED_OPS) -> dict:
    """Writes the float copy of `source` to `out` (only the quantized op types in `ops`, the rest kept as they
    are); returns counts of the ops replaced."""
    unknown = [op for op in ops if op not in QUANTIZED_OPS]
    if unknown:
        raise DequantizeError(f"cannot dequantize {unknown}; known quantized ops: {list(QUANTIZED_OPS)}")
    model = onnx.load(str(source))
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    drop: set[int] = set()
    replaced: dict[int, onnx.NodeProto] = {}
    new_inits: list[onnx.TensorProto] = []
    added: set[str] = set()
    counts = {"MatMulInteger": 0, "ConvInteger": 0, "DynamicQuantizeLSTM": 0}

    def only(name: str, op: str) -> onnx.NodeProto:
        users = consumers.get(name, [])
        if len(users) != 1 or users[0].op_type != op:
            raise DequantizeError(f"{name}: expected one {op} consumer, found {[u.op_type for u in users]}")
        return users[0]

    def float_input(quantized: str) -> str:
        """The float tensor a DynamicQuantizeLinear quantized (the node itself is dropped once unused)."""
        dql = producer.get(quantized)
        if dql is None or dql.op_type != "DynamicQuantizeLinear":
            raise DequantizeError(f"{quantized}: not produced by DynamicQuantizeLinear")
        drop.add(id(dql))
        return dql.input[0]

    for node in graph.node:
        if node.op_type not in ops:
            continue
        if node.op_type in ("MatMulInteger", "ConvInteger"):
            a_q, w_q, _, w_zero = node.input[:4]
            # Glue: Cast(int32 -> float) then Mul by (activation scale * weight scale).
            cast = only(node.output[0], "Cast")
            mul = only(cast.output[0], "Mul")
            scales = next(i for i in mul.input if i != cast.output[0])
            scales_mul = producer[scales]
            w_scale = next(i for i in scales_mul.input if i in inits)
            weight = _float_weight(inits, w_q, w_scale, w_zero)
            name = f"{w_q}_dequantized"
            if name not in added:  # one weight may feed several ops (sincnet's filterbank does)
                added.add(name)
                new_inits.append(numpy_helper.from_array(weight, name))
            op = "MatMul" if node.op_type == "MatMulInteger" else "Conv"
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            replaced[id(node)] = helper.make_node(op, [float_input(a_q), name], [mul.output[0]], name=node.name.replace("_quant", ""), **attrs)
            drop.update({id(cast), id(mul), id(scales_mul)})
            counts[node.op_type] += 1
        elif node.op_type == "DynamicQuantizeLSTM":
            x, w_q, r_q, b, seq, h0, c0, p, w_s, w_z, r_s, r_z = (list(node.input) + [""] * 12)[:12]
            w_name, r_name = f"{w_q}_dequantized", f"{r_q}_dequantized"
            new_inits.append(numpy_helper.from_array(_lstm_weight(inits, w_q, w_s, w_z), w_name))
            new_inits.append(numpy_helper.from_array(_lstm_weight(inits, r_q, r_s, r_z), r_name))
            inputs = [x, w_name, r_name, b, seq, h0, c0, p]
            while inputs and inputs[-1] == "":
                inputs.pop()
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            replaced[id(node)] = helper.make_node("LSTM", inputs, list(node.output), name=node.name.replace("_quant", ""), **attrs)
            counts["DynamicQuantizeLSTM"] += 1

    # A DynamicQuantizeLinear may feed several quantized ops: drop it only if nothing else reads its outputs.
    kept_ids = {id(n) for n in graph.node} - drop
    still_read = {i for n in graph.node if id(n) in kept_ids and id(n) not in replaced for i in n.input}
    for n in graph.node:
        if n.op_type == "DynamicQuantizeLinear" and id(n) in drop and any(o in still_read for o in n.output):
            drop.discard(id(n))

    nodes = [replaced.get(id(n), n) for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(new_inits)
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    # Subgraphs (If branches) read outer tensors too.
    for n in graph.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                used |= {i for sn in a.g.node for i in sn.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    leftover = [n.op_type for n in graph.node if n.op_type in ops or (n.op_type == "DynamicQuantizeLinear" and set(ops) >= {"MatMulInteger", "ConvInteger"})]
    if leftover:
        raise DequantizeError(f"quantized ops left after dequantization: {leftover}")
    # LSTM is a standard op: the com.microsoft domain is no longer needed when nothing uses it.
    if not any(n.domain == "com.microsoft" for n in graph.node):
        keep_opsets = [o for o in model.opset_import if o.domain != "com.microsoft"]
        del model.opset_import[:]
        model.opset_import.extend(keep_opsets)
    # No onnx.checker here: the shipped model already fails its topological-order check (an If branch
    # reads a tensor made later), which onnxruntime accepts; the build loads the copy in onnxruntime instead.
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return counts


def dev_chunks(diarization_dir: Path, window: int = 160000, step: int = 80000, limit: int = 64) -> np.ndarray:
    """Real 10 s chunks (16 kHz, 16-bit mono WAV) from the dev diarization clips, zero-padded: [N, 1, window]."""
    import wave

    chunks = []
    for wav in sorted(diarization_dir.glob("*.wav")):
        with wave.open(str(wav)) as f:
            if f.getframerate() != 16000 or f.getnchannels() != 1 or f.getsampwidth() != 2:
                continue
            x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        for start in range(0, max(1, len(x) - window + step), step):
            c = x[start : start + window]
            chunks.append(np.pad(c, (0, window - len(c))))
    if not chunks:
        raise DequantizeError(f"no 16 kHz mono 16-bit WAV clips in {diarization_dir} to check parity on")
    picked = [chunks[round(i * len(chunks) / min(limit, len(chunks)))] for i in range(min(limit, len(chunks)))]
    return np.stack(picked)[:, None, :]


def segmentation_parity(candidate: Path, reference: Path, chunks: np.ndarray, repeats: int = 5) -> dict:
    """Frame agreement of the powerset decision (argmax over the 7 classes, what the engine decodes) and
    ms per 10 s chunk on one thread for both models, timed interleaved (best of `repeats`) so load from
    other work on the machine falls on both alike."""
    import time

    import onnxruntime as ort

    def sess(path: Path) -> ort.InferenceSession:
        o = ort.SessionOptions()
        o.intra_op_num_threads = 1
        o.inter_op_num_threads = 1
        return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])

    a, b = sess(candidate), sess(reference)
    name_a, name_b = a.get_inputs()[0].name, b.get_inputs()[0].name
    agree = total = 0
    for c in chunks:
        ya = a.run(None, {name_a: c[None]})[0]
        yb = b.run(None, {name_b: c[None]})[0]
        agree += int((ya.argmax(-1) == yb.argmax(-1)).sum())
        total += ya.shape[1]
    probe = chunks[: min(4, len(chunks))]
    best = {"candidate": float("inf"), "reference": float("inf")}
    for _ in range(repeats):
        for key, s, name in (("candidate", a, name_a), ("reference", b, name_b)):
            for c in probe:
                t0 = time.perf_counter()
                s.run(None, {name: c[None]})
                best[key] = min(best[key], time.perf_counter() - t0)
    return {
        "frameAgreement": round(agree / total, 5),
        "chunks": int(len(chunks)),
        "msPerChunk1T": round(best["candidate"] * 1000, 2),
        "sourceMsPerChunk1T": round(best["reference"] * 1000, 2),
    }
