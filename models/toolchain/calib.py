"""Calibration windows: real dev-speech fbank windows written by the engine's own TypeScript fbank
(`npm run models:build` dumps them with server/src/features/fbank.ts, so they are exactly what the
runtime feeds), read here as .npy [N, T, 80] raw log fbank."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader


class EmptyCalibrationError(ValueError):
    pass


def load_windows(path: str | Path, global_mean: bool) -> np.ndarray:
    """[N, T, bins] float32; with `global_mean` each window's mean over its frames is subtracted, as the
    runtime does for models whose metadata says feature_normalize_type=global-mean."""
    path = Path(path)
    if not path.exists():
        raise EmptyCalibrationError(f"calibration windows not found: {path}; `npm run models:build` writes them from ../shared/data/dev")
    windows = np.load(path).astype(np.float32)
    return prepare(windows, global_mean, str(path))


def prepare(windows: np.ndarray, global_mean: bool, where: str = "calibration data") -> np.ndarray:
    if windows.ndim != 3 or windows.shape[0] == 0 or windows.shape[1] == 0:
        raise EmptyCalibrationError(
            f"{where} holds no calibration windows (shape {tuple(windows.shape)}); need real speech windows [N >= 1, T, 80] "
            "from ../shared/data/dev (is the dev data present?)"
        )
    if not np.all(np.isfinite(windows)):
        raise EmptyCalibrationError(f"{where} contains non-finite values")
    if global_mean:
        windows = windows - windows.mean(axis=1, keepdims=True)
    return windows.astype(np.float32)


def shift_level(windows: np.ndarray, gain_db: float) -> np.ndarray:
    """The same windows as if the recording were `gain_db` louder: log (natural) mel power moves by
    gain_db * ln(10) / 10 (exact except in bins at the fbank's energy floor). For parity checks across
    recording levels; a model with global-mean normalisation does not see the shift at all."""
    return (windows + np.float32(gain_db * np.log(10.0) / 10.0)).astype(np.float32)


class WindowReader(CalibrationDataReader):
    """Feeds windows to onnxruntime's calibrator in batches."""

    def __init__(self, input_name: str, windows: np.ndarray, batch: int = 16):
        if windows.shape[0] == 0:
            raise EmptyCalibrationError("no calibration windows given")
        self.input_name = input_name
        self.windows = windows
        self.batch = batch
        self.pos = 0

    def get_next(self):
        if self.pos >= self.windows.shape[0]:
            return None
        chunk = self.windows[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return {self.input_name: chunk}

    def rewind(self) -> None:
        self.pos = 0
