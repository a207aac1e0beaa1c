# Copyright (c) mmdepthseg contributors. All rights reserved.
from .task_discriminator import DiscriminatorDict, TaskDiscriminator

__all__ = ['TaskDiscriminator', 'DiscriminatorDict']
