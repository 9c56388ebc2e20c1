"""Builds every variant in models/manifest.json that is missing or stale (`npm run models:build`).

For each embedding model: its source is the downloaded original (found in the search folders, sha256
checked against the manifest: a mismatch is an error) or, for `build` entries, the CAM++ export made
here. Each variant is rebuilt when its output or build record is missing, or when the record's source
sha256 or recipe hash differs from the current ones; otherwise it is left alone (idempotent).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import torch

from . import export as export_mod
from .calib import load_windows, shift_level
from .dequantize import QUANTIZED_OPS, dequantize_dynamic, dev_chunks, segmentation_parity
from .campplus import CAMPPlus, count_parameters, random_init
from .onnxutil import check_embedding_contract, count_weights, recipe_hash, sha256_file
from .prune_campplus import prune_campplus
from .prune_lstm import prune_lstm_model
from .quantize import convert_fp16, measure, quantize_dynamic_int8, quantize_static_qdq

HERE = Path(__file__).resolve().parent
PARITY_MIN = 0.99  # mean cosine to FP32 an INT8 candidate must reach (trained models only)


class BuildError(RuntimeError):
    pass


def log(line: str) -> None:
    print(f"models:build: {line}", flush=True)


def code_sha(*files: str) -> str:
    import hashlib

    h = hashlib.sha256()
    for f in files:
        h.update((HERE / f).read_bytes())
    return h.hexdigest()


def read_record(path: Path) -> dict | None:
    rec = Path(f"{path}.build.json")
    if not rec.exists() or not path.exists():
        return None
    try:
        return json.loads(rec.read_text())
    except json.JSONDecodeError:
        return None


def is_fresh(path: Path, source_sha: str, recipe: dict) -> bool:
    rec = read_record(path)
    return bool(rec) and rec["sourceSha256"] == source_sha and rec["recipeHash"] == recipe_hash(recipe) and rec["sha256"] == sha256_file(path)


def finish(tmp: Path, out: Path, source_sha: str, recipe: dict, info: dict) -> dict:
    """Moves a built file into place and writes its build record (record last: a crash leaves it stale)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.build.json").unlink(missing_ok=True)
    shutil.move(str(tmp), str(out))
    model = onnx.load(str(out), load_external_data=False)
    record = {
        "sourceSha256": source_sha,
        "recipeHash": recipe_hash(recipe),
        "recipe": recipe,
        "sha256": sha256_file(out),
        "bytes": out.stat().st_size,
        "weights": count_weights(model),
        "builtAt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **info,
    }
    Path(f"{out}.build.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def find(file: str, search_dirs: list[Path]) -> Path | None:
    for d in search_dirs:
        for cand in (d / file, d / Path(file).name):
            if cand.is_file():
                return cand
    return None


@dataclass(frozen=True)
class Recipe:
    """A variant's recipe from models/manifest.json, typed. `raw` is what is hashed and recorded, so
    build records written before this class existed stay fresh."""

    method: str
    raw: dict = field(repr=False)
    keep_float: list[str] = field(default_factory=list)
    calibration_windows: int | None = None
    # int8
    candidates: list[str] = field(default_factory=list)
    weight_only_int8: list[str] | None = None
    per_channel: bool = False
    weight_only_group_size: int | None = None
    parity_levels_db: list[float] = field(default_factory=list)
    # Mean cosine to FP32 a candidate must reach; a per-model bound, so the choice does not hinge on which CPU
    # happens to run one candidate faster (dynamic wins on CPUs without VNNI, static QDQ with it).
    parity_min: float = PARITY_MIN
    # prune
    target: str | None = None
    fraction: float | None = None
    recovery: str | None = None

    @staticmethod
    def from_dict(raw: dict) -> "Recipe":
        if "method" not in raw:
            raise BuildError(f"recipe {raw} has no method (known: {', '.join(sorted(VARIANT_BUILDERS))})")
        return Recipe(
            method=raw["method"],
            raw=raw,
            keep_float=list(raw.get("keepFloat", [])),
            calibration_windows=raw.get("calibrationWindows"),
            candidates=list(raw.get("candidates", [])),
            weight_only_int8=raw.get("weightOnlyInt8"),
            per_channel=raw.get("perChannel", False),
            weight_only_group_size=raw.get("weightOnlyGroupSize"),
            parity_levels_db=list(raw.get("parityLevelsDb", [])),
            parity_min=raw.get("parityMin", PARITY_MIN),
            target=raw.get("target"),
            fraction=raw.get("fraction"),
            recovery=raw.get("recovery"),
        )

    @property
    def builder(self) -> str:
        """Registry key: the method, and for pruning what is pruned."""
        return f"{self.method}:{self.target}" if self.method == "prune" else self.method

    def calibration(self, windows: np.ndarray) -> np.ndarray:
        return windows[: self.calibration_windows if self.calibration_windows is not None else len(windows)]


@dataclass
class VariantJob:
    """Everything one variant build needs: the source model, its calibration windows, where to write."""

    label: str  # "<model>/<variant>" for messages
    recipe: Recipe
    source: Path
    windows: np.ndarray
    meta: dict
    trained: bool
    torch_model: Callable[[], torch.nn.Module] | None


def _int8_static_qdq(job: VariantJob, source: Path, out: Path) -> None:
    quantize_static_qdq(source, out, job.recipe.calibration(job.windows), job.recipe.keep_float)


def _int8_dynamic(job: VariantJob, source: Path, out: Path) -> None:
    r = job.recipe
    quantize_dynamic_int8(source, out, r.keep_float, weight_only=r.weight_only_int8, per_channel=r.per_channel, weight_only_group=r.weight_only_group_size)


INT8_CANDIDATES: dict[str, Callable[[VariantJob, Path, Path], None]] = {"static-qdq": _int8_static_qdq, "dynamic": _int8_dynamic}


def build_int8(job: VariantJob, tmp: Path) -> dict:
    recipe, source, windows = job.recipe, job.source, job.windows
    held = windows[1::2] if len(windows) > 1 else windows
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for cand in recipe.candidates:
            quantize = INT8_CANDIDATES.get(cand)
            if quantize is None:
                raise BuildError(f"unknown int8 candidate {cand!r} (known: {', '.join(INT8_CANDIDATES)})")
            path = Path(work) / f"{cand}.onnx"
            t0 = time.perf_counter()
            quantize(job, source, path)
            figures = measure(path, source, held)
            figures["buildSec"] = round(time.perf_counter() - t0, 1)
            # Recordings come loud and quiet: parity must hold at every level, so the worst level counts.
            levels = {}
            for db in recipe.parity_levels_db:
                shifted = measure(path, source, shift_level(held, db), repeats=1)
                levels[f"{db:+g} dB"] = {"cosMean": shifted["cosMean"], "cosP5": shifted["cosP5"]}
            if levels:
                figures["levels"] = levels
                figures["cosMean"] = min(figures["cosMean"], *(v["cosMean"] for v in levels.values()))
                figures["cosP5"] = min(figures["cosP5"], *(v["cosP5"] for v in levels.values()))
            results[cand] = figures
            at_levels = f" (worst of 0 dB and {', '.join(levels)})" if levels else ""
            log(f"  int8 candidate {cand}: cos mean {figures['cosMean']:.4f}, p5 {figures['cosP5']:.4f}{at_levels}, {figures['bytes'] / 1e6:.2f} MB, {figures['windowsPerSec1T']:.0f} windows/s (1 thread)")
        passing = [c for c in results if not job.trained or results[c]["cosMean"] >= recipe.parity_min]
        if not passing:
            best = max(results, key=lambda c: results[c]["cosMean"])
            log(f"  no int8 candidate reaches cosine {recipe.parity_min}; keeping the closest ({best})")
            passing = [best]
        chosen = max(passing, key=lambda c: results[c]["windowsPerSec1T"])
        shutil.copy(Path(work) / f"{chosen}.onnx", tmp)
    rule = f"fastest candidate with mean cosine >= {recipe.parity_min} on held-out calibration windows (at every level of parityLevelsDb)" if job.trained else "fastest candidate (untrained weights: parity not meaningful)"
    return {
        "chosen": chosen,
        "rule": rule,
        "candidates": results,
        "keepFloat": recipe.keep_float,
        "weightOnlyInt8": recipe.weight_only_int8 if recipe.weight_only_int8 is not None else [],
        "perChannel": recipe.per_channel,
        "weightOnlyGroupSize": recipe.weight_only_group_size,
    }


def build_fp16(job: VariantJob, tmp: Path) -> dict:
    convert_fp16(job.source, tmp, job.recipe.keep_float)
    return {"keepFloat": job.recipe.keep_float, **measure(tmp, job.source, job.windows[1::2])}


def build_pruned_lstm(job: VariantJob, tmp: Path) -> dict:
    r = job.recipe
    info = prune_lstm_model(job.source, tmp, r.calibration(job.windows)[::2], r.fraction, r.recovery is not None)
    info.update(measure(tmp, job.source, job.windows[1::2]))
    return info


def build_pruned_campplus(job: VariantJob, tmp: Path) -> dict | None:
    r = job.recipe
    if job.torch_model is None:
        log(f"  {job.label.split('/')[-1]}: skipped: pruning an ONNX-only CAM++ needs its PyTorch checkpoint (python -m toolchain.export --checkpoint)")
        return None
    model = job.torch_model()
    before = count_parameters(model)
    info = prune_campplus(model, r.fraction, r.calibration(job.windows) if r.recovery == "mean-compensation" else None)
    info["parameters"] = [before, count_parameters(model)]
    export_mod.export_module(model, tmp, {**job.meta, "pruning": f"bottleneck channels {info['bottleneckChannels'][0]} -> {info['bottleneckChannels'][1]} ({r.fraction:.0%})"})
    info.update(measure(tmp, job.source, job.windows[1::2]))
    return info


# Variant builders by Recipe.builder; each writes the variant to `tmp` and returns its figures for
# the build record, or None to skip it. A new kind of variant is one function and one entry here.
VARIANT_BUILDERS: dict[str, Callable[[VariantJob, Path], dict | None]] = {
    "int8": build_int8,
    "fp16": build_fp16,
    "prune:lstm-hidden-units": build_pruned_lstm,
    "prune:campplus-bottleneck-channels": build_pruned_campplus,
}


def build_variant(name: str, entry: dict, source: Path, vname: str, recipe: Recipe, out: Path, source_sha: str, calib_dir: Path, torch_model: Callable[[], torch.nn.Module] | None) -> dict | None:
    builder = VARIANT_BUILDERS.get(recipe.builder)
    if builder is None:
        raise BuildError(f"{name}/{vname}: unknown recipe {recipe.raw} (known builders: {', '.join(VARIANT_BUILDERS)})")
    meta = check_embedding_contract(source)
    global_mean = meta.get("feature_normalize_type", "").strip() == "global-mean"
    frames = round(entry["windowSec"] * 100)
    windows = load_windows(calib_dir / f"{entry['fbankRecipe']}-{frames}f.npy", global_mean)
    job = VariantJob(label=f"{name}/{vname}", recipe=recipe, source=source, windows=windows, meta=meta, trained=not entry.get("untrained", False), torch_model=torch_model)
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work) / "out.onnx"
        info = builder(job, tmp)
        if info is None:
            return None
        return finish(tmp, out, source_sha, recipe.raw, info)


SEGMENTATION_PARITY_MIN = 0.95  # share of frames whose powerset decision matches the shipped model


def build_segmentation_variants(name: str, entry: dict, args: argparse.Namespace) -> tuple[int, int, int]:
    """Segmentation variants (only `dequantize` so far: a float copy of the shipped INT8, of all its quantized ops or
    of the recipe's `ops`). Returns (built, fresh, skipped)."""
    variants = entry.get("variants") or {}
    if not variants:
        return 0, 0, 0
    found = find(entry["file"], args.search_dir)
    if found is None:
        log(f"{name}: {entry['file']} not present (`npm run models:fetch -- {name}`); its variants are skipped")
        return 0, 0, len(variants)
    sha = sha256_file(found)
    if sha != entry["sha256"]:
        raise BuildError(f"{name}: {found} has sha256 {sha}, but models/manifest.json pins {entry['sha256']}: a different or damaged file. Re-download it (npm run models:fetch -- {name}).")
    built = fresh = 0
    for vname, variant in variants.items():
        out = args.cache / variant["file"]
        recipe = variant["recipe"]
        if recipe.get("method") != "dequantize":
            raise BuildError(f"{name}/{vname}: unknown segmentation recipe {recipe} (known: dequantize)")
        if not args.force and is_fresh(out, sha, recipe):
            fresh += 1
            continue
        if args.dev_data is None or not (args.dev_data / "diarization").is_dir():
            raise BuildError(f"{name}/{vname}: parity is checked on the dev set's diarization clips; pass --dev-data (npm run models:build does)")
        log(f"{name}: building {vname} (dequantize)")
        with tempfile.TemporaryDirectory() as work:
            tmp = Path(work) / "out.onnx"
            replaced = dequantize_dynamic(found, tmp, tuple(recipe.get("ops", QUANTIZED_OPS)))
            figures = segmentation_parity(tmp, found, dev_chunks(args.dev_data / "diarization"))
            parity_min = recipe.get("parityMin", SEGMENTATION_PARITY_MIN)
            if figures["frameAgreement"] < parity_min:
                raise BuildError(f"{name}/{vname}: frame agreement with the shipped model {figures['frameAgreement']:.4f} < parityMin {parity_min}")
            log(f"  frame agreement {figures['frameAgreement']:.4f}; {figures['msPerChunk1T']:.1f} ms per 10 s chunk vs {figures['sourceMsPerChunk1T']:.1f} ms (1 thread, best of 5, interleaved)")
            finish(tmp, out, sha, recipe, {"replaced": replaced, "parityMin": parity_min, **figures})
        built += 1
    return built, fresh, 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--search-dir", type=Path, action="append", default=[])
    parser.add_argument("--dev-data", type=Path, help="dev set folder (diarization/ clips check the segmentation variants' parity)")
    parser.add_argument("--only")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    manifest = json.loads(args.manifest.read_text())
    calib_dir = args.cache / "calib"
    built = fresh = skipped = 0
    for name, entry in manifest["embedding"].items():
        if args.only and name != args.only:
            continue
        if "sameWeightsAs" in entry:
            continue  # its weights and variants are those of the entry it names, built there
        variants = entry.get("variants") or {}
        torch_model = None
        if "build" in entry:
            spec = entry["build"]
            if spec["method"] != "export-campplus":
                raise BuildError(f"{name}: unknown build method {spec['method']}")
            source = args.cache / entry["file"]
            source_sha = code_sha("campplus.py", "export.py")
            if args.force or not is_fresh(source, source_sha, spec):
                log(f"{name}: exporting CAM++ ({spec['embeddingSize']}-dim, seed {spec['seed']}, untrained)")
                with tempfile.TemporaryDirectory() as work:
                    tmp = Path(work) / "model.onnx"
                    export_mod.export_campplus(tmp, spec["embeddingSize"], spec["seed"])
                    params = count_parameters(CAMPPlus(embedding_size=spec["embeddingSize"]))
                    finish(tmp, source, source_sha, spec, {"parameters": params, "untrained": True})
                built += 1
            else:
                fresh += 1

            def torch_model(spec=spec):
                return random_init(CAMPPlus(embedding_size=spec["embeddingSize"]), spec["seed"])

            variant_source_sha = read_record(source)["sha256"]
        else:
            found = find(entry["file"], args.search_dir)
            if found is None:
                if variants:
                    log(f"{name}: {entry['file']} not present (`npm run models:fetch -- {name}` where reachable); its variants are skipped")
                skipped += len(variants)
                continue
            sha = sha256_file(found)
            if sha != entry["sha256"]:
                raise BuildError(f"{name}: {found} has sha256 {sha}, but models/manifest.json pins {entry['sha256']}: a different or damaged file. Re-download it (npm run models:fetch -- {name}).")
            source, variant_source_sha = found, sha
        for vname, variant in variants.items():
            out = args.cache / variant["file"]
            recipe = Recipe.from_dict(variant["recipe"])
            if not args.force and is_fresh(out, variant_source_sha, recipe.raw):
                fresh += 1
                continue
            log(f"{name}: building {vname} ({recipe.method})")
            t0 = time.perf_counter()
            record = build_variant(name, entry, source, vname, recipe, out, variant_source_sha, calib_dir, torch_model)
            if record is None:
                skipped += 1
                continue
            built += 1
            log(f"{name}: {vname} → {out} ({record['bytes'] / 1e6:.2f} MB, {time.perf_counter() - t0:.1f} s)")
    for name, entry in manifest.get("segmentation", {}).items():
        if args.only and name != args.only:
            continue
        b, f, s = build_segmentation_variants(name, entry, args)
        built, fresh, skipped = built + b, fresh + f, skipped + s
    log(f"{built} built, {fresh} up to date, {skipped} skipped")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BuildError, ValueError) as error:
        print(f"models:build: error: {error}", file=sys.stderr)
        sys.exit(1)
