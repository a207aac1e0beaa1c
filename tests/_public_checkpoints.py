# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Checkpoints in the key layouts of the public ImageNet files, made here.

Each ``*_shapes`` function writes down, from the published architecture
(torchvision's ``resnet.py`` / ``vgg.py``, OpenMMLab's ResNetV1c, timm's
``xception_aligned.py``), the name and shape of every tensor of the public
file, independently of mmdepthseg's modules. :func:`make_state` fills them
with random values that share one small storage (so that even ResNet-101
or VGG-16 files take a few MB on disk), every tensor with different values.
"""
from typing import Dict, List, Sequence, Tuple

import torch

Shapes = Dict[str, Tuple[int, ...]]


def _bn(prefix: str, c: int, tracked: bool = True) -> Shapes:
    out = {f'{prefix}.{k}': (c, ) for k in
           ('weight', 'bias', 'running_mean', 'running_var')}
    if tracked:
        out[f'{prefix}.num_batches_tracked'] = ()
    return out


def torchvision_resnet_shapes(depth: int,
                              deep_stem: bool = False,
                              tracked: bool = False) -> Shapes:
    """torchvision ``resnet{depth}`` (``deep_stem``: OpenMMLab's V1c).

    torchvision's files predate ``num_batches_tracked`` (``tracked=False``).
    """
    blocks, bottleneck = {
        18: ((2, 2, 2, 2), False),
        50: ((3, 4, 6, 3), True),
        101: ((3, 4, 23, 3), True)
    }[depth]
    expansion = 4 if bottleneck else 1
    shapes: Shapes = {}
    if deep_stem:  # 3x3 convs 32, 32, 64 (conv, bn, relu) x 3
        for i, (cin, cout) in enumerate(((3, 32), (32, 32), (32, 64))):
            shapes[f'stem.{3 * i}.weight'] = (cout, cin, 3, 3)
            shapes.update(_bn(f'stem.{3 * i + 1}', cout, tracked))
    else:
        shapes['conv1.weight'] = (64, 3, 7, 7)
        shapes.update(_bn('bn1', 64, tracked))
    inplanes = 64
    for stage, n in enumerate(blocks):
        planes = 64 * 2**stage
        for b in range(n):
            p = f'layer{stage + 1}.{b}'
            if bottleneck:
                convs = [(planes, inplanes, 1), (planes, planes, 3),
                         (planes * 4, planes, 1)]
            else:
                convs = [(planes, inplanes, 3), (planes, planes, 3)]
            for i, (cout, cin, k) in enumerate(convs):
                shapes[f'{p}.conv{i + 1}.weight'] = (cout, cin, k, k)
                shapes.update(_bn(f'{p}.bn{i + 1}', cout, tracked))
            stride = 2 if stage > 0 and b == 0 else 1
            if b == 0 and (stride != 1 or inplanes != planes * expansion):
                shapes[f'{p}.downsample.0.weight'] = (planes * expansion,
                                                      inplanes, 1, 1)
                shapes.update(
                    _bn(f'{p}.downsample.1', planes * expansion, tracked))
            inplanes = planes * expansion
    shapes['fc.weight'] = (1000, 512 * expansion)
    shapes['fc.bias'] = (1000, )
    return shapes


def torchvision_vgg16_shapes() -> Shapes:
    """torchvision ``vgg16``: ``features.<idx>`` convs, ``classifier``."""
    cfg: List = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512,
                 512, 'M', 512, 512, 512, 'M']
    shapes: Shapes = {}
    idx, cin = 0, 3
    for v in cfg:
        if v == 'M':
            idx += 1
            continue
        shapes[f'features.{idx}.weight'] = (v, cin, 3, 3)
        shapes[f'features.{idx}.bias'] = (v, )
        idx += 2  # conv, ReLU
        cin = v
    for i, (cout, c) in zip((0, 3, 6),
                            ((4096, 512 * 7 * 7), (4096, 4096), (1000, 4096))):
        shapes[f'classifier.{i}.weight'] = (cout, c)
        shapes[f'classifier.{i}.bias'] = (cout, )
    return shapes


def timm_xception65_shapes(width: float = 1.0,
                           num_middle: int = 16) -> Shapes:
    """timm ``xception65`` (aligned, TF-ported): ``stem``, ``blocks``,
    ``head.fc``; ``width`` scales every channel count as Xception65's
    ``width_mult`` does."""

    def w(c):
        return max(1, int(round(c * width)))

    shapes: Shapes = {}
    for i, (cin, cout) in enumerate(((3, w(32)), (w(32), w(64)))):
        shapes[f'stem.{i}.conv.weight'] = (cout, cin, 3, 3)
        shapes.update(_bn(f'stem.{i}.bn', cout))
    cfg = [(64, (128, ) * 3, True), (128, (256, ) * 3, True),
           (256, (728, ) * 3, True)]
    cfg += [(728, (728, ) * 3, False)] * num_middle
    cfg += [(728, (728, 1024, 1024), True), (1024, (1536, 1536, 2048), None)]
    for b, (cin, outs, shortcut) in enumerate(cfg):
        cin = w(cin)
        p = f'blocks.{b}'
        if shortcut:  # 1x1 ConvBnAct to the last width (no_skip: None)
            shapes[f'{p}.shortcut.conv.weight'] = (w(outs[-1]), cin, 1, 1)
            shapes.update(_bn(f'{p}.shortcut.bn', w(outs[-1])))
        for k, cout in enumerate(outs):
            cout = w(cout)
            q = f'{p}.stack.conv{k + 1}'
            shapes[f'{q}.conv_dw.weight'] = (cin, 1, 3, 3)
            shapes.update(_bn(f'{q}.bn_dw', cin))
            shapes[f'{q}.conv_pw.weight'] = (cout, cin, 1, 1)
            shapes.update(_bn(f'{q}.bn_pw', cout))
            cin = cout
    shapes['head.fc.weight'] = (1000, w(2048))
    shapes['head.fc.bias'] = (1000, )
    return shapes


def make_state(shapes: Shapes,
               seed: int = 0,
               max_numel: int = 1 << 21) -> Dict[str, torch.Tensor]:
    """Random tensors of the given shapes, small on disk.

    Tensors up to ``max_numel`` elements are views at distinct offsets of
    one random buffer (so no two are equal); larger ones (classifiers)
    repeat a random row. ``num_batches_tracked`` are distinct integers.
    """
    g = torch.Generator().manual_seed(seed)
    buffer = torch.rand(max_numel + len(shapes), generator=g) + 0.5
    state = {}
    for i, (key, shape) in enumerate(shapes.items()):
        numel = 1
        for s in shape:
            numel *= s
        if key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(i, dtype=torch.long)
        elif numel <= max_numel:
            state[key] = buffer[i:i + numel].view(shape)
        else:
            row = torch.rand(shape[-1], generator=g)
            state[key] = row.expand(*shape)
    return state


def save(state: Dict[str, torch.Tensor], path, wrap: Sequence[str] = ()):
    """``torch.save`` the state, optionally inside ``{wrap[0]: ...}``."""
    obj = state
    for key in wrap:
        obj = {key: obj}
    torch.save(obj, str(path))
    return str(path)
