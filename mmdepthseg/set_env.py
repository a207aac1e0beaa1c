# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Registering mmdepthseg's modules (MMSegmentation keeps this in
``mmseg/utils/set_env.py``).

It imports every registering package (datasets, models, evaluation, ...),
so it sits above them, at the top of the package, rather than in
``mmdepthseg.utils``, which they all import. ``from mmdepthseg.utils import
register_all_modules`` still works: ``mmdepthseg.utils`` forwards the name
here lazily.
"""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmdepthseg (and mmseg) into the registries.

    Args:
        init_default_scope (bool): Whether to set the default scope to
            ``mmdepthseg`` so that a registry without an explicit scope finds
            mmdepthseg's modules first. Defaults to True.
    """
    import mmseg.utils
    mmseg.utils.register_all_modules(init_default_scope=False)

    import mmdepthseg.datasets  # noqa: F401,F403
    import mmdepthseg.engine  # noqa: F401,F403
    import mmdepthseg.evaluation  # noqa: F401,F403
    import mmdepthseg.models  # noqa: F401,F403
    import mmdepthseg.stereo  # noqa: F401,F403
    import mmdepthseg.visualization  # noqa: F401,F403

    if init_default_scope:
        never_created = DefaultScope.get_current_instance() is None \
            or not DefaultScope.check_instance_created('mmdepthseg')
        if never_created:
            DefaultScope.get_instance('mmdepthseg', scope_name='mmdepthseg')
            return
        current_scope = DefaultScope.get_current_instance()
        if current_scope.scope_name != 'mmdepthseg':
            warnings.warn('The current default scope '
                          f'"{current_scope.scope_name}" is not "mmdepthseg", '
                          '`register_all_modules` will force the current '
                          'default scope to be "mmdepthseg". If this is not '
                          'expected, please set `init_default_scope=False`.')
            new_instance_name = f'mmdepthseg-{datetime.datetime.now()}'
            DefaultScope.get_instance(
                new_instance_name, scope_name='mmdepthseg')
