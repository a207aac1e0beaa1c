# Copyright (c) mmdepthseg contributors. All rights reserved.
from .discriminator_step_hook import DiscriminatorStepHook
from .em_alternating_hook import EMAlternatingHook
from .prediction_writer_hook import DepthSegPredictionWriterHook
from .visualization_hook import DepthSegVisualizationHook

__all__ = [
    'DepthSegVisualizationHook', 'EMAlternatingHook', 'DiscriminatorStepHook',
    'DepthSegPredictionWriterHook'
]
