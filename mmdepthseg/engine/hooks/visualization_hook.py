# Copyright (c) mmdepthseg contributors. All rights reserved.
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine import fileio
from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from mmdepthseg.registry import HOOKS


@HOOKS.register_module()
class DepthSegVisualizationHook(SegVisualizationHook):
    """Draw input | depth | segmentation during validation and testing.

    Validation (also the validation rounds of a training run) behaves as
    MMSegmentation's ``SegVisualizationHook``: after every ``interval``-th
    validation iteration (``batch_idx`` 0-based: iterations ``interval - 1``,
    ``2 * interval - 1``, ...) every sample of the batch is drawn by the
    visualizer (``DepthSegLocalVisualizer``: ground truth and prediction
    rows, depth and segmentation panels) and sent to **all** its backends
    with the runner's training iteration as the step: ``LocalVisBackend``
    writes ``vis_data/vis_image/<name>_<step>.png``, MMEngine's
    ``TensorboardVisBackend`` (needs ``tensorboard``) logs an image under
    the tag ``<name>``. The name is ``val_`` plus the image's path below the
    dataset's ``data_root`` with ``/`` written as ``__`` (KITTI frames of
    different drives share their file names). Training iterations draw
    nothing.

    In testing, when ``test_out_dir`` is set (``tools/test.py --show-dir``),
    **every** test image is drawn into ``work_dir/<timestamp>/<test_out_dir>/``
    under the image's own path below the data root; otherwise testing follows
    ``interval`` like validation (names ``test_...``).

    Args:
        draw (bool): Whether to draw at all. Defaults to False.
        interval (int): Draw every ``interval`` iterations. Defaults to 50.
        show (bool): Show the pictures in a window. Defaults to False.
        wait_time (float): Seconds a shown picture stays. Defaults to 0.
        test_out_dir (str, optional): Folder (relative to the run's log
            directory, or absolute) for the test pictures. Defaults to None.
        backend_args (dict, optional): File backend arguments used to read
            the images. Defaults to None.
    """

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 show: bool = False,
                 wait_time: float = 0.,
                 test_out_dir: Optional[str] = None,
                 backend_args: Optional[dict] = None):
        super().__init__(
            draw=draw,
            interval=interval,
            show=show,
            wait_time=wait_time,
            backend_args=backend_args)
        self.test_out_dir = test_out_dir
        self._test_index = 0

    @staticmethod
    def _relative_stem(img_path: str, data_root: Optional[str]) -> str:
        """The image's path below the data root, without extension.

        Pictures mirror the dataset's tree, so frames that share a file name
        (KITTI's ``0000000000.png`` of every drive) do not overwrite each
        other.
        """
        stem = osp.splitext(img_path)[0]
        if data_root:
            rel = osp.relpath(stem, data_root)
            if not rel.startswith(os.pardir):
                return rel
        return osp.basename(stem)

    @staticmethod
    def _data_root(runner: Runner, mode: str) -> Optional[str]:
        """``data_root`` of the dataset of the running loop, if it has one
        (a ``MultiSourceDataset`` has none)."""
        try:
            loader = getattr(runner, f'{mode}_dataloader')
        except Exception:  # a loop that was never built
            return None
        return getattr(getattr(loader, 'dataset', None), 'data_root', None)

    def _read_image(self, img_path: str) -> np.ndarray:
        """The sample's (reference view) image file as RGB uint8."""
        return mmcv.imfrombytes(
            fileio.get(img_path, backend_args=self.backend_args),
            channel_order='rgb')

    def _after_iter(self,
                    runner: Runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        """Draw the batch to the visualizer's backends every ``interval``
        iterations of validation (and of testing without
        ``test_out_dir``)."""
        if not self.draw or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        data_root = self._data_root(runner, mode)
        for output in outputs:
            rel = self._relative_stem(output.img_path, data_root)
            name = f"{mode}_{rel.replace(os.sep, '__')}"
            self._visualizer.add_datasample(
                name,
                self._read_image(output.img_path),
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                step=runner.iter)

    def after_test_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[SegDataSample]) -> None:
        if not self.draw:
            return
        if self.test_out_dir is None:
            super().after_test_iter(runner, batch_idx, data_batch, outputs)
            return
        out_dir = osp.join(runner.log_dir, self.test_out_dir)
        data_root = self._data_root(runner, 'test')
        for output in outputs:
            rel = self._relative_stem(output.img_path, data_root)
            self._visualizer.add_datasample(
                f'test_{osp.basename(rel)}',
                self._read_image(output.img_path),
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                out_file=osp.join(out_dir, f'{rel}.png'),
                step=self._test_index)
            self._test_index += 1
