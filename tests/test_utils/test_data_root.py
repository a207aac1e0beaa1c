# Copyright (c) mmdepthseg contributors. All rights reserved.
"""--data-root moves every dataset of a config, multi-source ones
included; data_root in --cfg-options moves them too or is refused."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmdepthseg.utils.data_root import (apply_data_root_args, dataset_roots,
                                        set_data_root)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _cfg(name):
    return Config.fromfile(osp.join(ROOT, 'configs', name))


def _leaf_datasets(dataset):
    """Leaf dataset configs, found independently of the code under test:
    through MultiSourceDataset sources and dataset wrappers."""
    if dataset.get('type') == 'MultiSourceDataset':
        return [
            d for source in dataset['sources']
            for d in _leaf_datasets(source['dataset'])
        ]
    if 'dataset' in dataset:  # a wrapper (RepeatDataset, ...)
        return _leaf_datasets(dataset['dataset'])
    return [dataset]


def _roots(cfg):
    return [
        d['data_root'] for loader in LOADERS
        for d in _leaf_datasets(cfg[loader]['dataset'])
    ]


@pytest.mark.parametrize('name', [
    'synthetic/semimtl_r18_synthcityscapes.py',
    'baseline/baseline_r18-unet_1xb4-600it_synthetic-cityscapes-128x256.py',
    'semimtl/semimtl_r101_cityscapes_cross-city.py',
])
def test_one_root_moves_every_dataset(name):
    cfg = _cfg(name)
    before = _roots(cfg)
    assert len(set(before)) == 1 and len(before) >= 3
    moved = set_data_root(cfg, ['/new/root'])
    assert _roots(cfg) == ['/new/root'] * len(before)
    assert len(moved) == len(before)
    assert cfg.data_root == '/new/root'  # the variable follows


def test_several_roots_need_old_new_pairs():
    cfg = _cfg('synthetic/semimtl_r18_synthisprs.py')
    assert sorted(set(_roots(cfg))) == [
        'data/synthetic_isprs/potsdam', 'data/synthetic_isprs/vaihingen'
    ]
    with pytest.raises(ValueError) as err:
        set_data_root(cfg, ['/new'])
    assert 'potsdam_root=NEW' in str(err.value)
    assert 'vaihingen_root=NEW' in str(err.value)
    before = _roots(cfg)
    # by variable name, and by the old path
    set_data_root(cfg, [
        'potsdam_root=/p', 'data/synthetic_isprs/vaihingen=/v'
    ])
    new = {
        'data/synthetic_isprs/potsdam': '/p',
        'data/synthetic_isprs/vaihingen': '/v'
    }
    assert _roots(cfg) == [new[root] for root in before]
    assert (cfg.potsdam_root, cfg.vaihingen_root) == ('/p', '/v')
    with pytest.raises(ValueError, match='no dataset reads'):
        set_data_root(cfg, ['/nowhere=/x'])


def test_cross_domain_config_moves_synscapes_alone():
    cfg = _cfg('semimtl/semimtl_r101_cityscapes-synscapes_cross-domain.py')
    apply_data_root_args(cfg, None, ['synscapes_root=/syn'])
    roots = set(_roots(cfg))
    assert roots == {'data/cityscapes', '/syn'}


def test_cfg_options_data_root_moves_the_datasets():
    cfg = _cfg('synthetic/semimtl_r18_synthcityscapes.py')
    apply_data_root_args(cfg, {
        'data_root': '/gen',
        'train_cfg.max_iters': 7
    }, None)
    assert set(_roots(cfg)) == {'/gen'}
    assert cfg.train_cfg.max_iters == 7
    # the roots as dataset_roots lists them: every leaf, with its key path
    paths = [p for p, _ in dataset_roots(cfg)]
    assert any('sources[1]' in p for p in paths)


def test_cfg_options_root_that_no_dataset_reads_is_refused():
    cfg = _cfg('synthetic/semimtl_r18_synthcityscapes.py')
    set_data_root(cfg, ['/gen'])
    cfg.data_root = 'data/stale'
    with pytest.raises(ValueError, match='Use --data-root'):
        apply_data_root_args(cfg, {'data_root': '/other'}, None)
