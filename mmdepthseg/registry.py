# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Child registries of MMSegmentation's, with scope ``mmdepthseg``.

Every component of mmdepthseg registers into one of these. Their parents are
MMSegmentation's registries, so a config with ``default_scope='mmdepthseg'``
still reaches every MMSegmentation / MMEngine type by its plain name (or as
``mmseg.PSPHead``), while mmdepthseg types are found first.
"""
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS

_SCOPE = 'mmdepthseg'

RUNNERS = Registry(
    'runner',
    parent=MMSEG_RUNNERS,
    scope=_SCOPE,
    locations=['mmdepthseg.engine'])
LOOPS = Registry(
    'loop', parent=MMSEG_LOOPS, scope=_SCOPE, locations=['mmdepthseg.engine'])
HOOKS = Registry(
    'hook', parent=MMSEG_HOOKS, scope=_SCOPE, locations=['mmdepthseg.engine'])
LOG_PROCESSORS = Registry(
    'log_processor',
    parent=MMSEG_LOG_PROCESSORS,
    scope=_SCOPE,
    locations=['mmdepthseg.engine'])
DATASETS = Registry(
    'dataset',
    parent=MMSEG_DATASETS,
    scope=_SCOPE,
    locations=['mmdepthseg.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMSEG_DATA_SAMPLERS,
    scope=_SCOPE,
    locations=['mmdepthseg.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMSEG_TRANSFORMS,
    scope=_SCOPE,
    locations=['mmdepthseg.datasets.transforms'])
MODELS = Registry(
    'model',
    parent=MMSEG_MODELS,
    scope=_SCOPE,
    locations=['mmdepthseg.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMSEG_MODEL_WRAPPERS,
    scope=_SCOPE,
    locations=['mmdepthseg.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMSEG_WEIGHT_INITIALIZERS,
    scope=_SCOPE,
    locations=['mmdepthseg.models'])
OPTIMIZERS = Registry(
    'optimizer',
    parent=MMSEG_OPTIMIZERS,
    scope=_SCOPE,
    locations=['mmdepthseg.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMSEG_OPTIM_WRAPPERS,
    scope=_SCOPE,
    locations=['mmdepthseg.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS,
    scope=_SCOPE,
    locations=['mmdepthseg.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMSEG_PARAM_SCHEDULERS,
    scope=_SCOPE,
    locations=['mmdepthseg.engine'])
METRICS = Registry(
    'metric',
    parent=MMSEG_METRICS,
    scope=_SCOPE,
    locations=['mmdepthseg.evaluation'])
EVALUATOR = Registry(
    'evaluator',
    parent=MMSEG_EVALUATOR,
    scope=_SCOPE,
    locations=['mmdepthseg.evaluation'])
TASK_UTILS = Registry(
    'task util',
    parent=MMSEG_TASK_UTILS,
    scope=_SCOPE,
    locations=['mmdepthseg.models', 'mmdepthseg.stereo'])
VISUALIZERS = Registry(
    'visualizer',
    parent=MMSEG_VISUALIZERS,
    scope=_SCOPE,
    locations=['mmdepthseg.visualization'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMSEG_VISBACKENDS,
    scope=_SCOPE,
    locations=['mmdepthseg.visualization'])
