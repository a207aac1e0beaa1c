# Copyright (c) mmdepthseg contributors. All rights reserved.
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine import fileio
from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from mmdepthseg.registry import HOOKS


@HOOKS.register_module()
class DepthSegVisualizationHook(SegVisualizationHook):
    """Draw input | depth | segmentation during validation and testing.

    Validation behaves as MMSegmentation's ``SegVisualizationHook``: every
    ``interval`` iterations the first sample of the batch is drawn and sent to
    the visualizer's backends (local files, TensorBoard, ...). In testing,
    when ``test_out_dir`` is set (``tools/test.py --show-dir``), **every**
    test image is drawn into ``work_dir/<timestamp>/<test_out_dir>/`` under
    the image's own file name; otherwise testing follows ``interval`` too.

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

    def after_test_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[SegDataSample]) -> None:
        if not self.draw:
            return
        if self.test_out_dir is None:
            super().after_test_iter(runner, batch_idx, data_batch, outputs)
            return
        out_dir = osp.join(runner.log_dir, self.test_out_dir)
        data_root = getattr(runner.test_dataloader.dataset, 'data_root', None)
        for output in outputs:
            img_path = output.img_path
            img = mmcv.imfrombytes(
                fileio.get(img_path, backend_args=self.backend_args),
                channel_order='rgb')
            rel = self._relative_stem(img_path, data_root)
            self._visualizer.add_datasample(
                f'test_{osp.basename(rel)}',
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                out_file=osp.join(out_dir, f'{rel}.png'),
                step=self._test_index)
            self._test_index += 1
