# Copyright (c) mmdepthseg contributors. All rights reserved.
from .resnet_encoder import ResNetEncoder
from .vgg_encoder import VGGEncoder

__all__ = ['ResNetEncoder', 'VGGEncoder']
