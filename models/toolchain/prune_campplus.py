"""Structured pruning of CAM++ D-TDNN bottleneck channels: genuinely smaller convolutions, not masks.

In every CAM dense layer the 1x1 bottleneck conv (`linear1`, in -> 128) loses output channels, and with
them its batch norm (`nonlinear2`) entries and the input channels of the CAM layer's `linear_local` and
context `linear1`. Channels are ranked by the L1 norm of their filter scaled by the batch norm's
|gamma| / sqrt(var + eps) (the size of the normalised output). Recovery: each removed channel's mean
post-activation on calibration speech is folded into the biases of the convolutions that read it
(mean compensation).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .campplus import CAMDenseTDNNLayer, CAMPPlus


def _conv_like(conv: nn.Conv1d, in_channels: int, out_channels: int, bias: bool) -> nn.Conv1d:
    return nn.Conv1d(in_channels, out_channels, conv.kernel_size[0], stride=conv.stride[0], padding=conv.padding[0], dilation=conv.dilation[0], bias=bias)


@torch.no_grad()
def prune_campplus(model: CAMPPlus, fraction: float, windows: np.ndarray | None = None) -> dict:
    """In place. `windows` [N, T, 80] (mean-normalised fbank) for mean compensation; None skips it."""
    layers = [m for m in model.modules() if isinstance(m, CAMDenseTDNNLayer)]
    means: dict[int, torch.Tensor] = {}
    if windows is not None and len(windows):
        hooks = [
            layer.nonlinear2.register_forward_hook(lambda _m, _i, out, key=id(layer): means.__setitem__(key, means.get(key, 0) + out.mean(dim=(0, 2))))
            for layer in layers
        ]
        batches = [torch.from_numpy(windows[i : i + 16]) for i in range(0, len(windows), 16)]
        for batch in batches:
            model(batch)
        for h in hooks:
            h.remove()
        means = {k: v / len(batches) for k, v in means.items()}
    before = after = 0
    for layer in layers:
        lin1, bn, cam = layer.linear1, layer.nonlinear2.batchnorm, layer.cam_layer
        channels = lin1.out_channels
        keep_n = int(round(channels * (1 - fraction)))
        scale = (bn.weight.abs() / torch.sqrt(bn.running_var + bn.eps))
        score = lin1.weight.abs().sum(dim=(1, 2)) * scale
        keep = torch.sort(torch.argsort(score, descending=True)[:keep_n]).values
        drop = torch.tensor(sorted(set(range(channels)) - set(keep.tolist())), dtype=torch.long)
        before += channels
        after += keep_n

        new_lin1 = _conv_like(lin1, lin1.in_channels, keep_n, bias=False)
        new_lin1.weight.copy_(lin1.weight[keep])
        new_bn = nn.BatchNorm1d(keep_n, eps=bn.eps, momentum=bn.momentum)
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(new_bn, name).copy_(getattr(bn, name)[keep])
        local = cam.linear_local
        new_local = _conv_like(local, keep_n, local.out_channels, bias=True)
        new_local.weight.copy_(local.weight[:, keep])
        new_local.bias.zero_()
        ctx = cam.linear1
        new_ctx = _conv_like(ctx, keep_n, ctx.out_channels, bias=True)
        new_ctx.weight.copy_(ctx.weight[:, keep])
        new_ctx.bias.copy_(ctx.bias)
        if id(layer) in means and len(drop):
            m = means[id(layer)][drop]  # mean post-BN-ReLU activation of each removed channel
            new_local.bias.add_(torch.einsum("ock,c->o", local.weight[:, drop], m))
            # The context is global mean + segment mean of the input: about twice a channel's mean.
            new_ctx.bias.add_(torch.einsum("ock,c->o", ctx.weight[:, drop], 2 * m))
        layer.linear1 = new_lin1
        layer.nonlinear2.batchnorm = new_bn
        cam.linear_local = new_local
        cam.linear1 = new_ctx
    return {"bottleneckChannels": [before, after], "layers": len(layers)}
