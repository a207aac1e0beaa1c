# Copyright (c) mmdepthseg contributors. All rights reserved.
from .adversarial_optim_constructor import (
    GeneratorDiscriminatorOptimWrapperConstructor, check_separate_ddp_coverage,
    get_discriminators)
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper, cpu_supports_bfloat16
from .skip_nonfinite_optim_wrapper import (IterationGuard,
                                           SkipNonFiniteAmpOptimWrapper,
                                           SkipNonFiniteOptimWrapper,
                                           all_ranks_finite)

__all__ = [
    'CPUAmpOptimWrapper', 'cpu_supports_bfloat16',
    'GeneratorDiscriminatorOptimWrapperConstructor',
    'check_separate_ddp_coverage', 'get_discriminators',
    'SkipNonFiniteOptimWrapper', 'SkipNonFiniteAmpOptimWrapper',
    'IterationGuard', 'all_ranks_finite'
]
