# Copyright (c) mmdepthseg contributors. All rights reserved.
"""MMEngine's CheckpointHook, with an order of writes a kill cannot break."""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmdepthseg.registry import HOOKS
from mmdepthseg.utils.io import atomic_write_text
from ..runner.checkpoint_files import commit_file, temp_name


@HOOKS.register_module()
class CrashSafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose every state on disk is resumable.

    MMEngine's hook deletes the oldest kept checkpoint *before* writing the
    new one, writes the new one in place, then overwrites
    ``last_checkpoint`` in place; a kill at the wrong moment leaves a
    truncated ``.pth``, an empty ``last_checkpoint``, or (with
    ``max_keep_ckpts=1``) no checkpoint at all. This hook, for local
    folders:

    1. writes the checkpoint under a hidden temporary name
       (``.iter_8.pth.tmp``), flushes it to disk and renames it (atomic):
       ``iter_8.pth`` is either absent or complete;
    2. only then deletes the checkpoints beyond ``max_keep_ckpts``;
    3. only then replaces ``last_checkpoint`` (atomically too).

    ``DepthSegRunner`` (whose ``save_checkpoint`` already writes through a
    temporary file) uses it wherever a config names ``CheckpointHook``;
    with a plain MMEngine ``Runner`` the hook does step 1 itself. Other
    backends (``backend_args``, remote ``out_dir``) keep MMEngine's
    behaviour for step 1.

    Args:
        **kwargs: As for ``mmengine.hooks.CheckpointHook``.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        drop = None
        if self.max_keep_ckpts > 0 and not (len(self.keep_ckpt_ids) > 0 and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                drop = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        local = isinstance(self.file_backend, LocalBackend) and \
            self.file_client_args is None
        commit_here = local and not getattr(
            runner, 'writes_checkpoints_atomically', False)
        runner.save_checkpoint(
            self.out_dir,
            temp_name(ckpt_filename) if commit_here else ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        if commit_here:
            commit_file(
                osp.join(self.out_dir, temp_name(ckpt_filename)),
                self.last_ckpt)

        if drop is not None:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(drop))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                # checkpoints saved by deepspeed are directories
                self.file_backend.rmtree(path)

        atomic_write_text(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
