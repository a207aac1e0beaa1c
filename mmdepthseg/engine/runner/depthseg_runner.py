# Copyright (c) mmdepthseg contributors. All rights reserved.
"""MMEngine's Runner with crash-safe checkpoints, exact resume and
non-finite-loss skipping."""
import copy
import logging
import os.path as osp
from typing import Dict, Optional, Union

from mmengine.dist import (all_gather_object, get_rank, get_world_size,
                           is_main_process)
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmengine.runner.runner import _SlicedDataset

from mmdepthseg.datasets.samplers import ResumableSampler, SeededDataset
from mmdepthseg.registry import DATA_SAMPLERS, DATASETS, HOOKS, RUNNERS
from .checkpoint_files import (commit_file, find_resumable_checkpoint,
                               remove_stale_temporaries, temp_name)
from .rng_state import get_rng_state

#: Stock MMEngine types and the mmdepthseg subclasses that replace them.
OPTIM_WRAPPER_TYPES = {
    'OptimWrapper': 'SkipNonFiniteOptimWrapper',
    'AmpOptimWrapper': 'SkipNonFiniteAmpOptimWrapper',
}
LOOP_TYPES = {
    'IterBasedTrainLoop': 'ResumableIterBasedTrainLoop',
    'EpochBasedTrainLoop': 'ResumableEpochBasedTrainLoop',
}
HOOK_TYPES = {'CheckpointHook': 'CrashSafeCheckpointHook'}
#: Default of ``nonfinite_loss_hook`` when the config has no such key.
DEFAULT_NONFINITE_HOOK = dict(type='NonFiniteLossHook', max_consecutive=5)
#: Key of the per-rank random states in ``checkpoint['meta']``.
RNG_META_KEY = 'rng_states'


def _type_name(obj_type) -> Optional[str]:
    return obj_type if isinstance(obj_type, str) else getattr(
        obj_type, '__name__', None)


def guard_optim_wrapper_cfg(cfg):
    """Replace ``OptimWrapper`` / ``AmpOptimWrapper`` (also implied, by a
    missing ``type``) by their non-finite-skipping subclasses in an
    optimizer wrapper config, recursively (``OptimWrapperDict`` configs and
    ``GeneratorDiscriminatorOptimWrapperConstructor`` sub-configs)."""
    if not isinstance(cfg, dict):
        return cfg
    cfg = copy.copy(cfg)
    if 'optimizer' in cfg:
        name = _type_name(cfg.get('type', 'OptimWrapper'))
        if name in OPTIM_WRAPPER_TYPES:
            cfg['type'] = OPTIM_WRAPPER_TYPES[name]
        return cfg
    for key, value in cfg.items():
        if isinstance(value, dict):
            cfg[key] = guard_optim_wrapper_cfg(value)
    return cfg


@RUNNERS.register_module()
class DepthSegRunner(Runner):
    """MMEngine's ``Runner`` made reliable for long runs.

    Selected by ``runner_type = 'DepthSegRunner'`` in
    ``configs/_base_/default_runtime.py`` (``tools/train.py`` builds the
    runner through the registry when a config names one), it differs from
    MMEngine's runner in four ways; the components are registered types of
    their own, which a config may also name directly.

    - **Non-finite losses.** Optimizer wrappers configured as
      ``OptimWrapper`` / ``AmpOptimWrapper`` are built as
      :class:`SkipNonFiniteOptimWrapper` / ``SkipNonFiniteAmpOptimWrapper``
      (also inside ``OptimWrapperDict`` configs), and the hook configured
      by ``nonfinite_loss_hook`` (default :class:`NonFiniteLossHook`,
      ``max_consecutive=5``; None turns both off) is registered unless
      ``custom_hooks`` has one.
    - **Crash-safe checkpoints.** :meth:`save_checkpoint` writes a local
      checkpoint under a temporary name, flushes it and renames it;
      ``CheckpointHook`` becomes :class:`CrashSafeCheckpointHook` (old
      checkpoints deleted and ``last_checkpoint`` replaced only after the
      new checkpoint is complete).
    - **Resume from the newest complete checkpoint.** ``resume=True``
      without ``load_from`` takes the newest checkpoint of the work dir
      that passes an integrity check (zip central directory and CRCs),
      with a warning naming each newer unreadable one.
    - **Exact resume.** Every rank's random states (``torch``, CUDA,
      ``numpy``, ``random``) are saved in ``checkpoint['meta']``; the
      training dataloader gets a :class:`ResumableSampler` (wrapping the
      configured sampler) and a :class:`SeededDataset`, so augmentations
      are drawn from seeds fixed by each batch's position in the stream;
      ``IterBasedTrainLoop`` / ``EpochBasedTrainLoop`` become
      :class:`ResumableIterBasedTrainLoop` /
      :class:`ResumableEpochBasedTrainLoop`, which resume the stream
      without loading the trained batches and restore the random states
      before the first resumed iteration. Training ``N`` iterations,
      saving, resuming and training ``M`` more then gives the parameters
      and optimizer states of ``N + M`` uninterrupted iterations, bit for
      bit (same world size, same hardware and thread count).

    Args:
        *args, **kwargs: As for ``mmengine.runner.Runner``; the settings
            above are read from ``cfg``.
    """

    #: :class:`CrashSafeCheckpointHook` need not commit the file itself.
    writes_checkpoints_atomically = True

    def __init__(self, *args, **kwargs) -> None:
        cfg = kwargs.get('cfg') or {}
        nonfinite = cfg.get('nonfinite_loss_hook', DEFAULT_NONFINITE_HOOK)
        self._nonfinite_hook_cfg = copy.deepcopy(nonfinite)
        self._replaced: Dict[str, str] = {}
        self._loaded_meta: dict = {}
        super().__init__(*args, **kwargs)
        self._register_nonfinite_hook()

    # ------------------------------------------------------------------
    # type replacements
    # ------------------------------------------------------------------
    def _note_replacement(self, old: str, new: str) -> None:
        if old not in self._replaced:
            self._replaced[old] = new
            print_log(
                f'DepthSegRunner: {new} in place of {old}', logger='current')

    def _replace(self, cfg: dict, table: Dict[str, str]) -> dict:
        name = _type_name(cfg.get('type'))
        if name in table:
            cfg = copy.copy(cfg)
            cfg['type'] = table[name]
            self._note_replacement(name, table[name])
        return cfg

    def register_hook(self,
                      hook: Union[Hook, Dict],
                      priority: Optional[Union[int, str]] = None) -> None:
        """Register a hook (``CheckpointHook`` configs as
        :class:`CrashSafeCheckpointHook`)."""
        if isinstance(hook, dict):
            hook = self._replace(hook, HOOK_TYPES)
        super().register_hook(hook, priority)

    def _register_nonfinite_hook(self) -> None:
        if self._nonfinite_hook_cfg is None:
            return
        hook_type = _type_name(self._nonfinite_hook_cfg.get('type'))
        hook_cls = HOOKS.get(hook_type)
        if any(isinstance(h, hook_cls) for h in self.hooks):
            return
        self.register_hook(copy.deepcopy(self._nonfinite_hook_cfg))

    def build_optim_wrapper(self, optim_wrapper):
        """Build the optimizer wrapper(s), skipping non-finite losses."""
        if isinstance(optim_wrapper, dict) and \
                self._nonfinite_hook_cfg is not None:
            guarded = guard_optim_wrapper_cfg(optim_wrapper)
            if guarded != optim_wrapper:
                self._note_replacement('OptimWrapper / AmpOptimWrapper',
                                       'SkipNonFinite(Amp)OptimWrapper')
            optim_wrapper = guarded
        return super().build_optim_wrapper(optim_wrapper)

    def build_train_loop(self, loop):
        """Build a resumable training loop and dataloader."""
        if isinstance(loop, dict):
            loop = copy.deepcopy(loop)
            if 'type' not in loop and 'by_epoch' in loop:
                loop['type'] = 'EpochBasedTrainLoop' if loop.pop(
                    'by_epoch') else 'IterBasedTrainLoop'
            loop = self._replace(loop, LOOP_TYPES)
            if isinstance(self._train_dataloader, dict):
                self._train_dataloader = self._resumable_dataloader(
                    self._train_dataloader)
        return super().build_train_loop(loop)

    def _resumable_dataloader(self, dataloader_cfg: dict) -> dict:
        """The dataloader config with a built :class:`SeededDataset` and
        :class:`ResumableSampler` in place of their configs."""
        cfg = copy.copy(dataloader_cfg)
        sampler_cfg = cfg.get('sampler')
        if not isinstance(sampler_cfg, dict) or 'batch_sampler' in cfg:
            print_log(
                'DepthSegRunner: the training dataloader has a built sampler '
                'or a batch_sampler; a resumed run replays the trained '
                'batches and draws other augmentations',
                logger='current',
                level=logging.WARNING)
            return dataloader_cfg
        dataset = cfg['dataset']
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
            if hasattr(dataset, 'full_init'):
                dataset.full_init()
        num_batch_per_epoch = cfg.pop('num_batch_per_epoch', None)
        if num_batch_per_epoch is not None:
            dataset = _SlicedDataset(
                dataset,
                num_batch_per_epoch * cfg['batch_size'] * get_world_size())
        diff_rank_seed = self._randomness_cfg.get('diff_rank_seed', False)
        sampler = DATA_SAMPLERS.build(
            sampler_cfg,
            default_args=dict(
                dataset=dataset, seed=None if diff_rank_seed else self.seed))
        cfg['dataset'] = SeededDataset(dataset)
        cfg['sampler'] = ResumableSampler(
            sampler,
            seed=self.seed,
            sampler_uses_run_seed='seed' not in sampler_cfg
            and not diff_rank_seed)
        return cfg

    # ------------------------------------------------------------------
    # checkpoints
    # ------------------------------------------------------------------
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """Save a checkpoint with every rank's random states, atomically.

        Called on every rank (as ``CheckpointHook`` does): the random
        states are gathered from all ranks, rank 0 writes the file.
        Arguments as for ``mmengine.runner.Runner.save_checkpoint``.
        """
        states = [get_rng_state()]
        if get_world_size() > 1:
            states = all_gather_object(states[0])
        if not is_main_process():
            return
        meta = dict(meta or {})
        meta[RNG_META_KEY] = states
        local = file_client_args is None and isinstance(
            get_file_backend(out_dir, backend_args=backend_args), LocalBackend)
        kwargs = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)
        if not local or osp.basename(filename).startswith('.'):
            super().save_checkpoint(out_dir, filename, **kwargs)
            return
        super().save_checkpoint(out_dir, temp_name(filename), **kwargs)
        commit_file(
            osp.join(out_dir, temp_name(filename)),
            osp.join(out_dir, filename))

    def load_checkpoint(self, filename: str, *args, **kwargs):
        """Load a checkpoint (and keep its ``meta`` for :meth:`resume`)."""
        checkpoint = super().load_checkpoint(filename, *args, **kwargs)
        self._loaded_meta = checkpoint.get('meta', {}) or {}
        return checkpoint

    def load_or_resume(self) -> None:
        """Load or resume; an automatic resume takes the newest complete
        checkpoint of the work dir."""
        if self._has_loaded:
            return None
        if not (self._resume and self._load_from is None):
            return super().load_or_resume()
        path, rejected = find_resumable_checkpoint(self.work_dir)
        for bad, reason in rejected:
            self.logger.warning(
                f'Not resuming from {bad}: {reason} (a run killed while '
                'writing it?); trying an older checkpoint')
        if is_main_process():
            remove_stale_temporaries(self.work_dir)
        if path is None:
            self.logger.info(
                f'No complete checkpoint in {self.work_dir} to resume '
                'from; training from the start')
            return None
        self.logger.info(f'Auto resumed from the latest checkpoint {path}.')
        self.resume(path)
        self._has_loaded = True

    def resume(self, filename: str, *args, **kwargs) -> None:
        """Resume training state and hand the random states and the seed to
        the training loop (restored right before the next iteration)."""
        super().resume(filename, *args, **kwargs)
        states = self._loaded_meta.get(RNG_META_KEY)
        state = None
        if states:
            if len(states) != get_world_size():
                self.logger.warning(
                    f'The checkpoint {filename} holds the random states of '
                    f'{len(states)} ranks but {get_world_size()} run now: '
                    'the resumed run draws other random numbers than the '
                    'uninterrupted one would')
            state = states[get_rank() % len(states)]
        else:
            self.logger.info(f'The checkpoint {filename} holds no random '
                             'states (not written by DepthSegRunner)')
        loop = self.train_loop
        if hasattr(loop, 'set_resume_state'):
            loop.set_resume_state(rng_state=state, seed=self.seed)
