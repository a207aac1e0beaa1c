# Copyright (c) mmdepthseg contributors. All rights reserved.
from .resnet_encoder import ResNetEncoder

__all__ = ['ResNetEncoder']
