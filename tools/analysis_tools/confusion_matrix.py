# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Confusion matrix of saved segmentation predictions (MMSegmentation's
flags).

The predictions are the class-id PNGs that ``tools/test.py CFG CKPT --out
DIR`` writes (``DIR/seg/<image path below the data root>.png``); each test
image of the config is matched with its own prediction by that path, and
its ground truth comes from the config's test pipeline (the size the
predictions were evaluated at). Rows are ground-truth classes, columns
predictions, each row normalised to 100 %; ``save_dir`` receives
``confusion_matrix.png`` and the raw pixel counts
``confusion_matrix.npy``::

    python tools/test.py CFG CKPT --out work_dirs/pred
    python tools/analysis_tools/confusion_matrix.py CFG work_dirs/pred \\
        work_dirs/pred
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar, mkdir_or_exist

from mmdepthseg.engine.hooks.visualization_hook import \
    DepthSegVisualizationHook
from mmdepthseg.registry import DATASETS
from mmdepthseg.utils import register_all_modules
from mmdepthseg.utils.data_root import apply_data_root_args


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate confusion matrix from segmentation results')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'prediction_path',
        help='prediction folder: the --out DIR of tools/test.py (or its seg/ '
        'subfolder)')
    parser.add_argument(
        'save_dir', help='directory where confusion matrix will be saved')
    parser.add_argument(
        '--show', action='store_true', help='show confusion matrix')
    parser.add_argument(
        '--color-theme',
        default='winter',
        help='theme of the matrix color map')
    parser.add_argument(
        '--title',
        default='Normalized Confusion Matrix',
        help='title of the matrix color map')
    parser.add_argument(
        '--data-root',
        nargs='+',
        metavar='ROOT',
        help='read the test dataset from this folder')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    return parser.parse_args(argv)


def prediction_file(pred_dir: str, img_path: str,
                    data_root: Optional[str]) -> str:
    """Where ``tools/test.py --out`` wrote the segmentation of an image."""
    rel = DepthSegVisualizationHook._relative_stem(img_path, data_root)
    return osp.join(pred_dir, rel + '.png')


def calculate_confusion_matrix(dataset, pred_dir: str,
                               num_classes: int) -> np.ndarray:
    """Pixel counts ``(C, C)``: row = ground truth, column = prediction.

    Args:
        dataset: The test dataset (its pipeline gives ``gt_sem_seg``).
        pred_dir (str): Folder of the class-id PNGs.
        num_classes (int): C; ground truth outside ``0..C-1`` (ignore
            index) is skipped, predictions outside it are an error.

    Returns:
        np.ndarray: int64 counts.
    """
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    data_root = getattr(dataset, 'data_root', None)
    bar = ProgressBar(len(dataset))
    for idx in range(len(dataset)):
        sample = dataset[idx]['data_samples']
        if 'gt_sem_seg' not in sample:
            raise KeyError(f'{sample.img_path}: the test pipeline gives no '
                           'gt_sem_seg')
        path = prediction_file(pred_dir, sample.img_path, data_root)
        pred = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if pred is None:
            raise FileNotFoundError(
                f'no prediction {path} for {sample.img_path} (write them '
                'with tools/test.py CONFIG CHECKPOINT --out DIR)')
        gt = sample.gt_sem_seg.data[0].numpy()
        if pred.shape != gt.shape:
            raise ValueError(f'{path}: prediction {pred.shape} but ground '
                             f'truth {gt.shape}')
        pred = pred.astype(np.int64)
        if pred.max(initial=0) >= num_classes:
            raise ValueError(f'{path}: class id {pred.max()} >= '
                             f'{num_classes} classes')
        valid = (gt >= 0) & (gt < num_classes)
        matrix += np.bincount(
            num_classes * gt[valid].astype(np.int64) + pred[valid],
            minlength=num_classes**2).reshape(num_classes, num_classes)
        bar.update()
    print()
    return matrix


def plot_confusion_matrix(matrix: np.ndarray,
                          labels: Sequence[str],
                          save_dir: Optional[str] = None,
                          show: bool = True,
                          title: str = 'Normalized Confusion Matrix',
                          color_theme: str = 'winter') -> None:
    """Draw the row-normalised matrix (percent of each ground-truth class;
    rows without pixels are left blank)."""
    import matplotlib
    if not show:
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    sums = matrix.sum(axis=1, keepdims=True)
    percent = np.where(sums > 0, matrix / np.maximum(sums, 1) * 100, np.nan)
    n = len(labels)
    size = max(6., 0.6 * n)
    fig, ax = plt.subplots(figsize=(size * 1.15, size), dpi=100)
    image = ax.imshow(percent, cmap=plt.get_cmap(color_theme), vmin=0,
                      vmax=100)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title, fontweight='bold')
    ax.set_ylabel('Ground Truth Label')
    ax.set_xlabel('Prediction Label')
    ax.set_xticks(np.arange(n))
    ax.set_yticks(np.arange(n))
    ax.set_xticklabels(labels)
    ax.set_yticklabels(labels)
    ax.tick_params(
        axis='x', bottom=False, top=True, labelbottom=False, labeltop=True)
    plt.setp(
        ax.get_xticklabels(), rotation=45, ha='left', rotation_mode='anchor')
    ax.set_xticks(np.arange(n + 1) - .5, minor=True)
    ax.set_yticks(np.arange(n + 1) - .5, minor=True)
    ax.grid(which='minor', color='w', linestyle='-', linewidth=0.5)
    fontsize = max(4, min(10, 120 // max(n, 1)))
    for i in range(n):
        for j in range(n):
            if not np.isnan(percent[i, j]):
                ax.text(
                    j,
                    i,
                    f'{percent[i, j]:.1f}',
                    ha='center',
                    va='center',
                    color='k',
                    fontsize=fontsize)
    fig.tight_layout()
    if save_dir is not None:
        mkdir_or_exist(save_dir)
        fig.savefig(osp.join(save_dir, 'confusion_matrix.png'))
    if show:
        plt.show()
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> np.ndarray:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    apply_data_root_args(
        cfg, args.cfg_options, args.data_root, loaders=('test_dataloader', ))
    init_default_scope(cfg.get('default_scope', 'mmdepthseg'))
    pred_dir = args.prediction_path
    if osp.isdir(osp.join(pred_dir, 'seg')):
        pred_dir = osp.join(pred_dir, 'seg')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    classes = list(dataset.metainfo['classes'])
    matrix = calculate_confusion_matrix(dataset, pred_dir, len(classes))
    mkdir_or_exist(args.save_dir)
    np.save(osp.join(args.save_dir, 'confusion_matrix.npy'), matrix)
    plot_confusion_matrix(
        matrix,
        classes,
        save_dir=args.save_dir,
        show=args.show,
        title=args.title,
        color_theme=args.color_theme)
    print(f'confusion matrix of {len(dataset)} images written to '
          f'{args.save_dir}')
    return matrix


if __name__ == '__main__':
    main()
