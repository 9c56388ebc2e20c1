"""Model toolchain: CAM++ architecture and export, INT8/FP16/pruned variants, build records.

Run from `models/` with the venv's Python (`npm run models:build` does this for you).
"""
