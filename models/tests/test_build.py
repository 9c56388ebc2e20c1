from pathlib import Path

import numpy as np
import pytest

from toolchain.build import VARIANT_BUILDERS, BuildError, Recipe, VariantJob, build_variant
from toolchain.onnxutil import recipe_hash


def test_recipe_types_the_manifest_fields_and_keeps_the_raw_dict_for_the_hash():
    raw = {"method": "int8", "candidates": ["dynamic"], "keepFloat": ["a"], "perChannel": True, "calibrationWindows": 3}
    recipe = Recipe.from_dict(raw)
    assert recipe.method == "int8" and recipe.candidates == ["dynamic"] and recipe.keep_float == ["a"] and recipe.per_channel
    assert recipe_hash(recipe.raw) == recipe_hash(dict(raw))
    assert recipe.calibration(np.arange(10)).tolist() == [0, 1, 2]
    assert Recipe.from_dict({"method": "fp16"}).calibration(np.arange(4)).tolist() == [0, 1, 2, 3]


def test_builders_are_keyed_by_method_and_prune_target():
    assert Recipe.from_dict({"method": "fp16"}).builder == "fp16"
    assert Recipe.from_dict({"method": "prune", "target": "lstm-hidden-units", "fraction": 0.25}).builder == "prune:lstm-hidden-units"
    assert set(VARIANT_BUILDERS) == {"int8", "fp16", "prune:lstm-hidden-units", "prune:campplus-bottleneck-channels"}


def test_an_unknown_recipe_is_refused_by_name_before_any_work(tmp_path: Path):
    recipe = Recipe.from_dict({"method": "prune", "target": "attention-heads"})
    with pytest.raises(BuildError, match=r"m/v: unknown recipe .*known builders: int8, fp16"):
        build_variant("m", {}, tmp_path / "missing.onnx", "v", recipe, tmp_path / "out.onnx", "sha", tmp_path, None)
    with pytest.raises(BuildError, match="has no method"):
        Recipe.from_dict({"target": "x"})


def test_campplus_pruning_without_a_checkpoint_is_skipped(tmp_path: Path):
    job = VariantJob(label="m/v", recipe=Recipe.from_dict({"method": "prune", "target": "campplus-bottleneck-channels", "fraction": 0.5}), source=tmp_path, windows=np.zeros((2, 1)), meta={}, trained=False, torch_model=None)
    assert VARIANT_BUILDERS["prune:campplus-bottleneck-channels"](job, tmp_path / "out.onnx") is None
