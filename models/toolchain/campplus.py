"""CAM++ (Wang et al., "CAM++: A Fast and Efficient Network for Speaker Verification Using
Context-Aware Masking", Interspeech 2023), written from the paper.

Structure (section 2 of the paper):
  * FCM: a 2-D convolutional front-end (a 3x3 conv, two stages of two residual blocks that halve
    the frequency axis, a final strided conv) that turns [N, 80, T] fbank into [N, 32 * 10, T].
  * D-TDNN backbone: a strided TDNN layer, then three densely connected blocks (12, 24, 16 layers,
    growth 32, bottleneck 4 x 32, kernel 3, dilation 1/2/2), each followed by a transition layer
    that halves the channels. Every dense layer ends in a context-aware masking (CAM) layer: a local
    TDNN output is multiplied by a sigmoid mask predicted from global + segment (100-frame) average
    pooling of its input (multi-granularity pooling).
  * statistics pooling (mean and unbiased standard deviation over time) and a dense embedding layer
    (1x1 conv + batch norm without affine parameters).

Module and parameter names follow the public 3D-Speaker checkpoints (`head.conv1`, `head.layer1.0.bn2`,
`xvector.block1.tdnnd1.cam_layer.linear_local`, `xvector.dense.nonlinear.batchnorm`, ...), so an
official state dict loads with `load_state_dict(strict=True)`; see `load_checkpoint` for the errors
a mismatched checkpoint gives.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

# The two published configurations: VoxCeleb (512-dim, 7.18 M parameters) and zh-cn common (192-dim).
PUBLISHED_EMBEDDING_SIZES = {"en-voxceleb": 512, "zh-cn-common": 192}

SEGMENT_FRAMES = 100  # segment length of the CAM layer's segment pooling (1 s at a 10 ms shift)


def bn_relu(channels: int, affine: bool = True, relu: bool = True) -> nn.Sequential:
    """A `nonlinear` stage as the checkpoints name it: Sequential(batchnorm[, relu])."""
    stage = nn.Sequential()
    stage.add_module("batchnorm", nn.BatchNorm1d(channels, affine=affine))
    if relu:
        stage.add_module("relu", nn.ReLU())
    return stage


class BasicResBlock(nn.Module):
    """ResNet basic block over (frequency, time); strides only the frequency axis."""

    def __init__(self, in_planes: int, planes: int, freq_stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=(freq_stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if freq_stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=(freq_stride, 1), bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class FCM(nn.Module):
    """Front-end convolution module: [N, F, T] -> [N, channels * F / 8, T]."""

    def __init__(self, feat_dim: int = 80, channels: int = 32, blocks_per_stage: int = 2):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.layer1 = nn.Sequential(*[BasicResBlock(channels, channels, 2 if i == 0 else 1) for i in range(blocks_per_stage)])
        self.layer2 = nn.Sequential(*[BasicResBlock(channels, channels, 2 if i == 0 else 1) for i in range(blocks_per_stage)])
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.out_channels = channels * ((feat_dim + 7) // 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        y = self.layer2(self.layer1(y))
        y = F.relu(self.bn2(self.conv2(y)))
        return y.flatten(1, 2)  # [N, C, F', T] -> [N, C * F', T]


class TDNNLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        self.linear = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=(kernel_size - 1) // 2 * dilation, dilation=dilation, bias=False)
        self.nonlinear = bn_relu(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x))


def segment_average(x: torch.Tensor, seg_len: int = SEGMENT_FRAMES) -> torch.Tensor:
    """Average over consecutive `seg_len`-frame segments (the last one may be shorter), broadcast back to every frame."""
    seg = F.avg_pool1d(x, kernel_size=seg_len, stride=seg_len, ceil_mode=True)  # [N, C, ceil(T / seg_len)]
    frames = seg.unsqueeze(-1).expand(-1, -1, -1, seg_len).flatten(2)  # [N, C, segments * seg_len]
    return frames[..., : x.shape[-1]]


class CAMLayer(nn.Module):
    """Context-aware masking: a local TDNN output scaled by a mask from global + segment context."""

    def __init__(self, bn_channels: int, out_channels: int, kernel_size: int, dilation: int, reduction: int = 2, context_channels: int | None = None):
        super().__init__()
        context_channels = context_channels or bn_channels // reduction
        self.linear_local = nn.Conv1d(bn_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2 * dilation, dilation=dilation, bias=False)
        self.linear1 = nn.Conv1d(bn_channels, context_channels, 1)
        self.relu = nn.ReLU()
        self.linear2 = nn.Conv1d(context_channels, out_channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        local = self.linear_local(x)
        context = x.mean(-1, keepdim=True) + segment_average(x)
        mask = self.sigmoid(self.linear2(self.relu(self.linear1(context))))
        return local * mask


class CAMDenseTDNNLayer(nn.Module):
    """BN-ReLU, 1x1 bottleneck conv, BN-ReLU, CAM layer; its output is concatenated to its input."""

    def __init__(self, in_channels: int, out_channels: int, bn_channels: int, kernel_size: int, dilation: int):
        super().__init__()
        self.nonlinear1 = bn_relu(in_channels)
        self.linear1 = nn.Conv1d(in_channels, bn_channels, 1, bias=False)
        self.nonlinear2 = bn_relu(bn_channels)
        self.cam_layer = CAMLayer(bn_channels, out_channels, kernel_size, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))


class CAMDenseTDNNBlock(nn.ModuleList):
    def __init__(self, num_layers: int, in_channels: int, growth: int, bn_channels: int, kernel_size: int, dilation: int):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"tdnnd{i + 1}", CAMDenseTDNNLayer(in_channels + i * growth, growth, bn_channels, kernel_size, dilation))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = torch.cat([x, layer(x)], dim=1)
        return x


class TransitLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.nonlinear = bn_relu(in_channels)
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.nonlinear(x))


class StatsPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(-1), x.std(-1, unbiased=True)], dim=-1)


class DenseLayer(nn.Module):
    """Embedding layer: 1x1 conv on the pooled statistics, then batch norm without affine parameters."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)
        self.nonlinear = bn_relu(out_channels, affine=False, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))


class CAMPPlus(nn.Module):
    """Input [N, T, feat_dim] log fbank (mean-normalised over T), output [N, embedding_size]."""

    def __init__(
        self,
        feat_dim: int = 80,
        embedding_size: int = 512,
        growth_rate: int = 32,
        bn_size: int = 4,
        init_channels: int = 128,
        block_layers: tuple[int, ...] = (12, 24, 16),
        block_dilations: tuple[int, ...] = (1, 2, 2),
    ):
        super().__init__()
        self.feat_dim = feat_dim
        self.embedding_size = embedding_size
        self.head = FCM(feat_dim)
        channels = self.head.out_channels
        self.xvector = nn.Sequential(OrderedDict([("tdnn", TDNNLayer(channels, init_channels, 5, stride=2))]))
        channels = init_channels
        for i, (num_layers, dilation) in enumerate(zip(block_layers, block_dilations)):
            self.xvector.add_module(f"block{i + 1}", CAMDenseTDNNBlock(num_layers, channels, growth_rate, bn_size * growth_rate, 3, dilation))
            channels += num_layers * growth_rate
            self.xvector.add_module(f"transit{i + 1}", TransitLayer(channels, channels // 2))
            channels //= 2
        self.xvector.add_module("out_nonlinear", bn_relu(channels))
        self.xvector.add_module("stats", StatsPool())
        self.xvector.add_module("dense", DenseLayer(channels * 2, embedding_size))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.xvector(self.head(feats.transpose(1, 2)))


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (what the paper reports); batch-norm running statistics are buffers, not counted."""
    return sum(p.numel() for p in model.parameters())


def random_init(model: CAMPPlus, seed: int) -> CAMPPlus:
    """Deterministic random weights (no trained CAM++ here): He-normal convs, and batch-norm statistics
    that are not the identity, so that graph transformations (fusion, quantization, pruning) are
    exercised on realistic tensors."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(1.0 + 0.2 * torch.rand(m.num_features, generator=gen))
                if m.affine:
                    m.weight.copy_(1.0 + 0.1 * torch.randn(m.num_features, generator=gen))
                    m.bias.copy_(0.05 * torch.randn(m.num_features, generator=gen))
    return model.eval()


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not fit the CAM++ configuration."""


def load_checkpoint(model: CAMPPlus, state: Mapping[str, torch.Tensor]) -> CAMPPlus:
    """Strict load of a 3D-Speaker CAM++ state dict, with an error that lists what does not fit.

    Accepts the bare state dict or one wrapped as {"state_dict": ...} / {"model": ...}, and strips a
    DataParallel "module." prefix.
    """
    for wrapper in ("state_dict", "model"):
        if wrapper in state and isinstance(state[wrapper], Mapping):
            state = state[wrapper]  # type: ignore[assignment]
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shape = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or unexpected or shape:
        def few(keys: list[str]) -> str:
            return ", ".join(keys[:5]) + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else "")

        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {few(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {few(unexpected)}")
        if shape:
            parts.append(
                f"{len(shape)} shape mismatch(es): "
                + few([f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}" for k in shape])
            )
        raise CheckpointMismatchError(
            f"checkpoint does not fit CAM++ (embedding_size={model.embedding_size}): " + "; ".join(parts)
            + ". Is it a 3D-Speaker CAM++ checkpoint, and does --embedding-size match it (512 for VoxCeleb, 192 for zh-cn)?"
        )
    model.load_state_dict(state, strict=True)
    return model.eval()
