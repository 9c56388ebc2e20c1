"""Export CAM++ to ONNX with the sherpa-onnx / 3D-Speaker contract.

Input `x` float32 [N, T, 80] (log Kaldi fbank), output `embedding` float32 [N, D], opset 13, metadata
framework / language / url / comment / sample_rate / output_dim / normalize_samples /
feature_normalize_type=global-mean. Without a checkpoint the weights come from a fixed random seed:
such a file is material for size, speed and graph-transformation checks only (an untrained net's
embedding barely depends on its input), never for accuracy.
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import onnx
import torch

from .campplus import CAMPPlus, load_checkpoint, random_init
from .onnxutil import set_metadata

OPSET = 13


def campplus_metadata(embedding_size: int, seed: int | None, checkpoint: str | None) -> dict[str, str]:
    origin = f"checkpoint {Path(checkpoint).name}" if checkpoint else f"UNTRAINED: random weights, seed {seed} (size/speed/graph checks only; accuracy meaningless)"
    return {
        "framework": "3d-speaker",
        "language": "English" if embedding_size == 512 else "Chinese",
        "url": "https://github.com/modelscope/3D-Speaker",
        "comment": f"CAM++ written from the paper in models/toolchain/campplus.py; {origin}",
        "sample_rate": "16000",
        "output_dim": str(embedding_size),
        "normalize_samples": "1",
        "feature_normalize_type": "global-mean",
        "model_type": "cam++",
    }


def export_module(model: torch.nn.Module, out: Path, meta: dict[str, str], frames: int = 200) -> onnx.ModelProto:
    """Traces `model` (input [N, T, 80]) to ONNX with dynamic N and T, adds `meta`, saves to `out`."""
    model.eval()
    dummy = torch.zeros(2, frames, 80).normal_(generator=torch.Generator().manual_seed(1))
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            buffer,
            input_names=["x"],
            output_names=["embedding"],
            dynamic_axes={"x": {0: "N", 1: "T"}, "embedding": {0: "N"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    set_metadata(proto, meta)
    onnx.checker.check_model(proto)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out))
    return proto


def export_campplus(out: Path, embedding_size: int = 192, seed: int = 0, checkpoint: str | None = None) -> onnx.ModelProto:
    model = CAMPPlus(embedding_size=embedding_size)
    if checkpoint:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        load_checkpoint(model, state)
    else:
        random_init(model, seed)
    return export_module(model, out, campplus_metadata(embedding_size, None if checkpoint else seed, checkpoint))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--embedding-size", type=int, default=192)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", help="3D-Speaker CAM++ state dict (.pt/.bin); strict load")
    args = parser.parse_args()
    export_campplus(args.out, args.embedding_size, args.seed, args.checkpoint)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
