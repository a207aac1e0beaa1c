# Copyright (c) mmdepthseg contributors. All rights reserved.
from .sosd_context import SOSDContextNeck

__all__ = ['SOSDContextNeck']
