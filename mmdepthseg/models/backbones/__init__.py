# Copyright (c) mmdepthseg contributors. All rights reserved.
from .pretrained import ConvertedState, PretrainedInitMixin
from .resnet_encoder import PretrainedResNet, ResNetEncoder
from .vgg_encoder import VGGEncoder
from .xception import Xception65

__all__ = [
    'ResNetEncoder', 'PretrainedResNet', 'VGGEncoder', 'Xception65',
    'PretrainedInitMixin', 'ConvertedState'
]
