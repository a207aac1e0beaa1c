# Copyright (c) mmdepthseg contributors. All rights reserved.
from .gd_optim_constructor import (
    GeneratorDiscriminatorOptimWrapperConstructor, check_separate_ddp_coverage,
    get_discriminators)

__all__ = [
    'GeneratorDiscriminatorOptimWrapperConstructor',
    'check_separate_ddp_coverage', 'get_discriminators'
]
