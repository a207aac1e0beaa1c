# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The one model loader of the entry points: config (file, object or a
model name of ``configs/*/metafile.yaml``) + checkpoint -> a segmentor in
eval mode.

Used by :class:`~mmdepthseg.apis.DepthSegInferencer`, the pseudo-label
generator (:mod:`mmdepthseg.apis.pseudo_seg`), the ONNX export
(:mod:`mmdepthseg.deployment`) and the tools built on them.
"""
import copy
import glob
import inspect
import os.path as osp
from pathlib import Path
from typing import Optional, Tuple, Union

import mmengine
import torch
from mmengine.config import Config, ConfigDict

ConfigLike = Union[str, Path, Config, ConfigDict, dict]


def repo_root() -> str:
    """The folder holding ``mmdepthseg/`` and ``configs/``."""
    import mmdepthseg
    return osp.dirname(osp.dirname(osp.abspath(mmdepthseg.__file__)))


def find_metafile_model(name: str,
                        root: Optional[str] = None
                        ) -> Tuple[str, Optional[str]]:
    """Config file and weights of a model named in ``configs/*/metafile.yaml``.

    Args:
        name (str): ``Name`` (or one of the ``Alias``) of a model entry,
            case-insensitive, e.g. ``'fsre_r18_kitti'``.
        root (str, optional): Repository root. Defaults to the one of the
            installed package.

    Returns:
        tuple[str, str | None]: Config path and the entry's ``Weights``
        (None when the metafile gives none).
    """
    root = root or repo_root()
    metafiles = sorted(
        glob.glob(osp.join(root, 'configs', '*', 'metafile.yaml')))
    known = []
    for metafile in metafiles:
        for entry in mmengine.load(metafile).get('Models', []) or []:
            aliases = entry.get('Alias', []) or []
            aliases = [aliases] if isinstance(aliases, str) else aliases
            names = [entry['Name']] + list(aliases)
            known.append(entry['Name'])
            if name.lower() in (n.lower() for n in names):
                weights = entry.get('Weights')
                if isinstance(weights, list):
                    weights = weights[0] if weights else None
                return osp.join(root, entry['Config']), weights
    raise FileNotFoundError(
        f'{name!r} is neither a config file nor a model name of '
        f'{osp.join(root, "configs", "*", "metafile.yaml")} (known: '
        f'{", ".join(sorted(known)) or "none"})')


def load_config(config: ConfigLike) -> Config:
    """A private copy of a config given as a file, object or dict.

    Args:
        config (str | Path | Config | dict): Config file or object.

    Returns:
        Config: A deep copy (the caller's object is never modified).
    """
    if isinstance(config, Config):
        return copy.deepcopy(config)
    if isinstance(config, dict):
        return Config(copy.deepcopy(dict(config)))
    path = str(config)
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    return Config.fromfile(path)


def dataset_meta_from_cfg(cfg: Optional[Config]) -> Optional[dict]:
    """``classes`` and ``palette`` of the config's test dataset (its
    ``metainfo``, else its class's ``METAINFO``), or None."""
    from mmdepthseg.registry import DATASETS
    try:
        dataset = cfg.test_dataloader.dataset
    except AttributeError:
        return None
    metainfo = dataset.get('metainfo') or {}
    if not metainfo.get('classes'):
        dataset_cls = DATASETS.get(dataset.get('type', ''))
        metainfo = getattr(dataset_cls, 'METAINFO', None) or {}
    if not metainfo.get('classes'):
        return None
    return dict(
        classes=list(metainfo['classes']), palette=metainfo.get('palette'))


def drop_pretrained(cfg: Union[dict, list]) -> None:
    """Remove every ``Pretrained`` initialisation from a model config.

    ``init_cfg=dict(type='Pretrained', ...)`` entries (alone or in a list)
    and ``pretrained='path or URL'`` arguments, at any depth: a randomly
    initialised model must not download ImageNet weights.
    """
    if isinstance(cfg, dict):
        init_cfg = cfg.get('init_cfg', None)
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            cfg['init_cfg'] = None
        elif isinstance(init_cfg, list):
            cfg['init_cfg'] = [
                c for c in init_cfg
                if not (isinstance(c, dict) and c.get('type') == 'Pretrained')
            ] or None
        if isinstance(cfg.get('pretrained', None), str):
            cfg['pretrained'] = None
    for child in list(cfg.values() if isinstance(cfg, dict) else cfg):
        if isinstance(child, (dict, list)):
            drop_pretrained(child)


def init_segmentor(config: ConfigLike,
                   checkpoint: Optional[str] = None,
                   device: str = 'cpu',
                   init_weights: bool = False) -> torch.nn.Module:
    """Build a segmentor and load its checkpoint.

    The steps of :func:`mmseg.apis.init_model`, for mmseg's own segmentors
    (``EncoderDecoder``...) and mmdepthseg's alike: the config's
    ``default_scope`` set, ``pretrained`` (where the constructor takes it)
    or else the backbone's ``init_cfg`` and ``train_cfg`` dropped,
    MMEngine's ``load_checkpoint`` (local file or URL), ``dataset_meta``
    from the checkpoint's meta, else from the config's test dataset; SyncBN
    becomes BN on the CPU.

    Args:
        config (str | Path | Config | dict): Config file or object (not
            modified; the model gets a copy as ``model.cfg``).
        checkpoint (str, optional): Checkpoint file. None keeps the random
            initialisation (no ``init_weights``, so nothing is downloaded).
        device (str): e.g. ``'cpu'`` or ``'cuda:0'``. Defaults to 'cpu'.
        init_weights (bool): Without a checkpoint, initialise the weights as
            training starts (``model.init_weights()``), every ``Pretrained``
            initialisation removed first (:func:`drop_pretrained`), so that
            nothing is downloaded. Defaults to False (the layers' default
            initialisation, as mmseg's ``init_model``).

    Returns:
        nn.Module: The model in eval mode, with ``model.cfg`` set.
    """
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from mmdepthseg.registry import MODELS
    from mmdepthseg.set_env import register_all_modules
    register_all_modules(init_default_scope=False)
    config = load_config(config)
    init_default_scope(config.get('default_scope', 'mmseg'))
    model_cls = MODELS.get(config.model.type)
    if model_cls is None:
        raise KeyError(f'model type {config.model.type!r} is not registered '
                       '(neither in mmseg nor in mmdepthseg)')
    init_weights = init_weights and checkpoint is None
    if 'pretrained' in inspect.signature(model_cls).parameters:
        config.model.pretrained = None
    if init_weights:
        drop_pretrained(config.model)
    elif isinstance(config.model.get('backbone', None), dict):
        config.model.backbone.pop('init_cfg', None)
    config.model.train_cfg = None
    model = MODELS.build(config.model)
    if init_weights:
        model.init_weights()
    meta = None
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}).get('dataset_meta', None)
    meta = meta or dataset_meta_from_cfg(config)
    if meta is not None:
        model.dataset_meta = meta
    model.cfg = config
    if device == 'cpu' or not torch.cuda.is_available():
        model = revert_sync_batchnorm(model)
    return model.to(device).eval()
