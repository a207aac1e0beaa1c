# Copyright (c) mmdepthseg contributors. All rights reserved.
from .depth_metric import DepthMetric
from .depth_seg_metric import DepthSegMetric
from .multi_domain_metric import MultiDomainDepthSegMetric

__all__ = ['DepthMetric', 'DepthSegMetric', 'MultiDomainDepthSegMetric']
