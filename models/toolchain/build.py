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
from pathlib import Path

import numpy as np
import onnx
import torch

from . import export as export_mod
from .calib import load_windows, shift_level
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


def build_int8(source: Path, tmp: Path, recipe: dict, windows: np.ndarray, trained: bool) -> dict:
    cal = windows[: recipe.get("calibrationWindows", len(windows))]
    held = windows[1::2] if len(windows) > 1 else windows
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for cand in recipe["candidates"]:
            path = Path(work) / f"{cand}.onnx"
            t0 = time.perf_counter()
            if cand == "static-qdq":
                quantize_static_qdq(source, path, cal, recipe.get("keepFloat", []))
            elif cand == "dynamic":
                quantize_dynamic_int8(
                    source,
                    path,
                    recipe.get("keepFloat", []),
                    weight_only=recipe.get("weightOnlyInt8"),
                    per_channel=recipe.get("perChannel", False),
                    weight_only_group=recipe.get("weightOnlyGroupSize"),
                )
            else:
                raise BuildError(f"unknown int8 candidate {cand!r} (known: static-qdq, dynamic)")
            figures = measure(path, source, held)
            figures["buildSec"] = round(time.perf_counter() - t0, 1)
            # Recordings come loud and quiet: parity must hold at every level, so the worst level counts.
            levels = {}
            for db in recipe.get("parityLevelsDb", []):
                shifted = measure(path, source, shift_level(held, db), repeats=1)
                levels[f"{db:+g} dB"] = {"cosMean": shifted["cosMean"], "cosP5": shifted["cosP5"]}
            if levels:
                figures["levels"] = levels
                figures["cosMean"] = min(figures["cosMean"], *(v["cosMean"] for v in levels.values()))
                figures["cosP5"] = min(figures["cosP5"], *(v["cosP5"] for v in levels.values()))
            results[cand] = figures
            at_levels = f" (worst of 0 dB and {', '.join(levels)})" if levels else ""
            log(f"  int8 candidate {cand}: cos mean {figures['cosMean']:.4f}, p5 {figures['cosP5']:.4f}{at_levels}, {figures['bytes'] / 1e6:.2f} MB, {figures['windowsPerSec1T']:.0f} windows/s (1 thread)")
        passing = [c for c in results if not trained or results[c]["cosMean"] >= PARITY_MIN]
        if not passing:
            best = max(results, key=lambda c: results[c]["cosMean"])
            log(f"  no int8 candidate reaches cosine {PARITY_MIN}; keeping the closest ({best})")
            passing = [best]
        chosen = max(passing, key=lambda c: results[c]["windowsPerSec1T"])
        shutil.copy(Path(work) / f"{chosen}.onnx", tmp)
    rule = f"fastest candidate with mean cosine >= {PARITY_MIN} on held-out calibration windows (at every level of parityLevelsDb)" if trained else "fastest candidate (untrained weights: parity not meaningful)"
    return {
        "chosen": chosen,
        "rule": rule,
        "candidates": results,
        "keepFloat": recipe.get("keepFloat", []),
        "weightOnlyInt8": recipe.get("weightOnlyInt8", []),
        "perChannel": recipe.get("perChannel", False),
        "weightOnlyGroupSize": recipe.get("weightOnlyGroupSize"),
    }


def build_variant(name: str, entry: dict, source: Path, vname: str, variant: dict, calib_dir: Path, torch_model: callable | None) -> dict | None:
    recipe = variant["recipe"]
    meta = check_embedding_contract(source)
    global_mean = meta.get("feature_normalize_type", "").strip() == "global-mean"
    frames = round(entry["windowSec"] * 100)
    windows = load_windows(calib_dir / f"{entry['fbankRecipe']}-{frames}f.npy", global_mean)
    trained = not entry.get("untrained", False)
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work) / "out.onnx"
        method = recipe["method"]
        if method == "int8":
            info = build_int8(source, tmp, recipe, windows, trained)
        elif method == "fp16":
            convert_fp16(source, tmp, recipe.get("keepFloat", []))
            info = {"keepFloat": recipe.get("keepFloat", []), **measure(tmp, source, windows[1::2])}
        elif method == "prune" and recipe["target"] == "lstm-hidden-units":
            info = prune_lstm_model(source, tmp, windows[: recipe.get("calibrationWindows", len(windows)) : 2], recipe["fraction"], recipe.get("recovery") is not None)
            info.update(measure(tmp, source, windows[1::2]))
        elif method == "prune" and recipe["target"] == "campplus-bottleneck-channels":
            if torch_model is None:
                log(f"  {vname}: skipped: pruning an ONNX-only CAM++ needs its PyTorch checkpoint (python -m toolchain.export --checkpoint)")
                return None
            model = torch_model()
            cal = windows[: recipe.get("calibrationWindows", len(windows))]
            before = count_parameters(model)
            info = prune_campplus(model, recipe["fraction"], cal if recipe.get("recovery") == "mean-compensation" else None)
            info["parameters"] = [before, count_parameters(model)]
            export_mod.export_module(model, tmp, {**meta, "pruning": f"bottleneck channels {info['bottleneckChannels'][0]} -> {info['bottleneckChannels'][1]} ({recipe['fraction']:.0%})"})
            info.update(measure(tmp, source, windows[1::2]))
        else:
            raise BuildError(f"{name}/{vname}: unknown recipe {recipe}")
        return finish(tmp, Path(variant["_out"]), variant["_source_sha"], recipe, info)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--search-dir", type=Path, action="append", default=[])
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
            if not args.force and is_fresh(out, variant_source_sha, variant["recipe"]):
                fresh += 1
                continue
            log(f"{name}: building {vname} ({variant['recipe']['method']})")
            t0 = time.perf_counter()
            record = build_variant(name, entry, source, vname, {**variant, "_out": str(out), "_source_sha": variant_source_sha}, calib_dir, torch_model)
            if record is None:
                skipped += 1
                continue
            built += 1
            log(f"{name}: {vname} → {out} ({record['bytes'] / 1e6:.2f} MB, {time.perf_counter() - t0:.1f} s)")
    log(f"{built} built, {fresh} up to date, {skipped} skipped")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BuildError, ValueError) as error:
        print(f"models:build: error: {error}", file=sys.stderr)
        sys.exit(1)
