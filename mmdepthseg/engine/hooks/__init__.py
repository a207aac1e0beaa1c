# Copyright (c) mmdepthseg contributors. All rights reserved.
from .crash_safe_checkpoint_hook import CrashSafeCheckpointHook
from .discriminator_step_hook import DiscriminatorStepHook
from .em_alternating_hook import EMAlternatingHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .prediction_writer_hook import DepthSegPredictionWriterHook
from .visualization_hook import DepthSegVisualizationHook

__all__ = [
    'DepthSegVisualizationHook', 'EMAlternatingHook', 'DiscriminatorStepHook',
    'DepthSegPredictionWriterHook', 'CrashSafeCheckpointHook',
    'NonFiniteLossHook', 'NonFiniteLossError'
]
