# Copyright (c) mmdepthseg contributors. All rights reserved.
from .resnet_encoder import ResNetEncoder
from .vgg_encoder import VGGEncoder
from .xception import Xception65

__all__ = ['ResNetEncoder', 'VGGEncoder', 'Xception65']
