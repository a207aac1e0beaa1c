# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The old name (``gd``: generator / discriminator) of
:mod:`mmdepthseg.engine.optimizers.adversarial_optim_constructor`, kept so
that imports and ``custom_imports`` naming it keep working."""
from .adversarial_optim_constructor import (  # noqa: F401
    DISCRIMINATOR_KEY, DISCRIMINATORS, GENERATOR_KEY,
    GeneratorDiscriminatorOptimWrapperConstructor, check_separate_ddp_coverage,
    get_discriminators)
