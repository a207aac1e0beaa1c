# Copyright (c) mmdepthseg contributors. All rights reserved.
"""MultiSourceDataset + MultiSourceSampler (SemiMTL's multi-domain data)."""
import os.path as osp

import numpy as np
import pytest
from mmengine.dataset import BaseDataset, DefaultSampler, pseudo_collate
from mmengine.runner import Runner
from test_datasets.conftest import (CS_BASELINE, CS_FX, CS_H, CS_W,
                                    write_cityscapes_tree)
from torch.utils.data import DataLoader

# registers DepthTargetTransform for the pipelines
import mmdepthseg.datasets.transforms.depth_target  # noqa: F401
from mmdepthseg.datasets.cityscapes_depth import CityscapesDepthSegDataset
from mmdepthseg.datasets.multi_source import MultiSourceDataset
from mmdepthseg.datasets.samplers import multi_source_sampler
from mmdepthseg.datasets.samplers.multi_source_sampler import \
    MultiSourceSampler

PIPELINE = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='DepthTargetTransform', mode='inverse'),
    dict(type='PackMultiViewInputs'),
]
SEG_TASKS, DEPTH_TASKS = ('seg', ), ('depth', )


# ---------------------------------------------------------------------------
# tiny Cityscapes sources: 2 train frames (seg) + 3 train_extra (disparity)
# ---------------------------------------------------------------------------
@pytest.fixture
def cs_root(tmp_path):
    root = str(tmp_path / 'cityscapes')
    write_cityscapes_tree(root, split='train', num_frames=2)
    write_cityscapes_tree(root, split='train_extra', num_frames=3, seed=1)
    return root


def cityscapes_cfg(root, split, seg=True, disp=True, pipeline=PIPELINE):
    prefix = dict(
        img_path=f'leftImg8bit/{split}', camera_path=f'camera/{split}')
    if seg:
        prefix['seg_map_path'] = f'gtFine/{split}'
    if disp:
        prefix['disp_path'] = f'disparity/{split}'
    return dict(
        type='CityscapesDepthSegDataset',
        data_root=root,
        data_prefix=prefix,
        pipeline=pipeline)


def two_cities(root, pipeline=PIPELINE, **kwargs):
    """Cityscapes (seg; its disparity is loadable but not declared) +
    Cityscapes-depth (train_extra, disparity only)."""
    return MultiSourceDataset(
        sources=[
            dict(
                dataset=cityscapes_cfg(root, 'train', pipeline=pipeline),
                domain=1,
                tasks=SEG_TASKS),
            dict(
                dataset=cityscapes_cfg(
                    root, 'train_extra', seg=False, pipeline=pipeline),
                domain=2,
                tasks=DEPTH_TASKS),
        ],
        **kwargs)


#: Inverse depth of the fixture's disparity rows (1 px, 2 px, invalid, zero
#: disparity, 0.5 px): disparity / (baseline * fx).
INV_DEPTH_ROWS = np.array([1, 2, np.nan, np.nan, 0.5]) / (CS_BASELINE * CS_FX)


def test_train_extra_is_a_depth_only_cityscapes_source(cs_root):
    ds = CityscapesDepthSegDataset(
        data_root=cs_root,
        data_prefix=dict(
            img_path='leftImg8bit/train_extra',
            disp_path='disparity/train_extra',
            camera_path='camera/train_extra'),
        pipeline=PIPELINE)
    assert len(ds) == 3
    info = ds.get_data_info(0)
    assert info['img_path'].startswith(
        osp.join(cs_root, 'leftImg8bit', 'train_extra'))
    assert 'seg_map_paths' not in info
    sample = ds[0]['data_samples']
    assert 'gt_sem_seg' not in sample
    np.testing.assert_allclose(sample.gt_depth_map.data[0, :5, 5].numpy(),
                               INV_DEPTH_ROWS)


def test_stamps_domain_and_drops_unlabelled_fields(cs_root):
    ds = two_cities(cs_root)
    assert len(ds) == 5 and ds.source_sizes == [2, 3]
    assert ds.source_offsets == [0, 2]
    assert ds.source_of(3) == (1, 1)
    info = ds.get_data_info(2)
    assert info['domain'] == 2 and info['labelled_tasks'] == DEPTH_TASKS
    for idx in range(5):
        sample = ds[idx]['data_samples']
        domain = 1 if idx < 2 else 2
        assert sample.metainfo['domain'] == domain
        if domain == 1:
            # the Cityscapes source could load disparity: it is dropped
            assert sample.metainfo['labelled_tasks'] == SEG_TASKS
            assert 'gt_depth_map' not in sample
            assert sample.gt_sem_seg.data.shape == (1, CS_H, CS_W)
            # fixture labels: column 0 road, 1 car, 2 ignore, others veg.
            np.testing.assert_array_equal(
                sample.gt_sem_seg.data[0, 0, :4].numpy(), [0, 13, 255, 8])
        else:
            assert sample.metainfo['labelled_tasks'] == DEPTH_TASKS
            assert 'gt_sem_seg' not in sample
            np.testing.assert_allclose(
                sample.gt_depth_map.data[0, :5, 0].numpy(), INV_DEPTH_ROWS)


def test_unpacked_results_drop_fields_too(cs_root):
    ds = two_cities(cs_root, pipeline=PIPELINE[:3])
    results = ds[0]
    assert 'gt_depth_map' not in results
    assert 'gt_depth_map' not in results['depth_fields']
    assert results['seg_fields'] == ['gt_seg_map']
    assert results['domain'] == 1 and results['labelled_tasks'] == SEG_TASKS


def test_missing_labels_name_source_and_key(cs_root):
    # declared at init, the data infos cannot load it
    with pytest.raises(KeyError, match=r"domain 2.*'seg'.*seg_map_paths"):
        MultiSourceDataset(sources=[
            dict(
                dataset=cityscapes_cfg(cs_root, 'train_extra', seg=False),
                domain=2,
                tasks=('seg', 'depth'))
        ])
    # the pipeline does not load it: error when the sample is loaded
    no_load = [dict(type='LoadMultiViewImages'), PIPELINE[-1]]
    ds = MultiSourceDataset(sources=[
        dict(
            dataset=cityscapes_cfg(cs_root, 'train', pipeline=no_load),
            domain=1,
            tasks=SEG_TASKS)
    ])
    with pytest.raises(KeyError, match=r"domain 1.*gt_sem_seg"):
        ds[0]


def test_metainfo_of_seg_sources_must_agree(cs_root):
    ds = two_cities(cs_root)
    meta = ds.metainfo
    assert meta['classes'] == CityscapesDepthSegDataset.METAINFO['classes']
    assert meta['domain_tasks'] == {1: SEG_TASKS, 2: DEPTH_TASKS}
    other = cityscapes_cfg(cs_root, 'train_extra', seg=True)
    other['data_prefix']['seg_map_path'] = 'gtFine/train_extra'
    other['metainfo'] = dict(
        classes=('a', 'b'), palette=[[0, 0, 0], [1, 1, 1]])
    with pytest.raises(ValueError, match='classes'):
        MultiSourceDataset(sources=[
            dict(
                dataset=cityscapes_cfg(cs_root, 'train'),
                domain=1,
                tasks=SEG_TASKS),
            dict(dataset=other, domain=2, tasks=('seg', 'depth'))
        ])
    # a depth-only source may differ
    other['data_prefix'].pop('seg_map_path')
    ds = MultiSourceDataset(sources=[
        dict(
            dataset=cityscapes_cfg(cs_root, 'train'),
            domain=1,
            tasks=SEG_TASKS),
        dict(dataset=other, domain=2, tasks=DEPTH_TASKS)
    ])
    assert len(ds.metainfo['classes']) == 19


def test_source_spec_errors(cs_root):
    cfg = cityscapes_cfg(cs_root, 'train')
    with pytest.raises(ValueError, match='tasks'):
        MultiSourceDataset(
            sources=[dict(dataset=cfg, domain=1, tasks=('normals', ))])
    with pytest.raises(ValueError, match='domain'):
        MultiSourceDataset(
            sources=[dict(dataset=cfg, domain=0, tasks=SEG_TASKS)])
    with pytest.raises(ValueError, match='unique'):
        MultiSourceDataset(sources=[
            dict(dataset=cfg, domain=1, tasks=SEG_TASKS),
            dict(dataset=cfg, domain=1, tasks=SEG_TASKS)
        ])
    with pytest.raises(ValueError, match='exactly the keys'):
        MultiSourceDataset(sources=[dict(dataset=cfg, domain=1)])
    with pytest.raises(ValueError, match='test_mode'):
        MultiSourceDataset(
            sources=[
                dict(
                    dataset=dict(cfg, test_mode=False),
                    domain=1,
                    tasks=SEG_TASKS)
            ],
            test_mode=True)


# ---------------------------------------------------------------------------
# sampler on in-memory sources
# ---------------------------------------------------------------------------
class _ToyDataset(BaseDataset):
    """``size`` samples holding their own index; labels of both tasks."""

    METAINFO = dict(classes=('a', 'b'), palette=[[0, 0, 0], [9, 9, 9]])

    def __init__(self, size: int, **kwargs):
        self.size = size
        # no serialisation: it runs gc.collect(), 0.2 s a dataset
        super().__init__(serialize_data=False, **kwargs)

    def load_data_list(self):
        return [
            dict(
                index=i,
                img_path=f'{i}.png',
                seg_map_paths=[f'{i}_seg.png'],
                depth_map_paths=[f'{i}_depth.npy'],
                gt_seg_map=np.zeros((1, 1, 1), np.uint8),
                gt_depth_map=np.ones((1, 1, 1), np.float32))
            for i in range(self.size)
        ]


def toy_sources(sizes, pipeline=()):
    return MultiSourceDataset(sources=[
        dict(
            dataset=_ToyDataset(n, pipeline=list(pipeline)),
            domain=k + 1,
            tasks=SEG_TASKS if k % 2 == 0 else DEPTH_TASKS)
        for k, n in enumerate(sizes)
    ])


def take(sampler, n):
    it = iter(sampler)
    return [next(it) for _ in range(n)]


def per_source_draws(ds, indices, k):
    """Local indices of source k among global ``indices``, in order."""
    return [ds.source_of(i)[1] for i in indices if ds.source_of(i)[0] == k]


def test_blocks_hold_each_source_in_order():
    ds = toy_sources([5, 3, 7])
    sampler = MultiSourceSampler(ds, [2, 1, 3], seed=0)
    assert sampler.batch_size == 6
    indices = take(sampler, 6 * 20)
    for b in range(20):
        block = indices[6 * b:6 * (b + 1)]
        assert [ds.source_of(i)[0] for i in block] == [0, 0, 1, 2, 2, 2]
    # every source's stream is a sequence of permutations of the source
    for k, n in enumerate([5, 3, 7]):
        draws = per_source_draws(ds, indices, k)
        for start in range(0, len(draws) - n + 1, n):
            assert sorted(draws[start:start + n]) == list(range(n))


def test_without_shuffle_sources_cycle_in_order():
    ds = toy_sources([3, 2])
    sampler = MultiSourceSampler(ds, 2, shuffle=False, seed=0)
    # source 0: 0 1 | 2 0 | 1 2 ; source 1 (offset 3): 3 4 | 3 4 | 3 4
    assert take(sampler, 12) == [0, 1, 3, 4, 2, 0, 3, 4, 1, 2, 3, 4]


def test_seed_determinism():
    ds = toy_sources([6, 4])
    a = take(MultiSourceSampler(ds, [2, 2], seed=7), 40)
    b = take(MultiSourceSampler(ds, [2, 2], seed=7), 40)
    c = take(MultiSourceSampler(ds, [2, 2], seed=8), 40)
    assert a == b and a != c


def test_two_ranks_partition_every_source(monkeypatch):
    ds = toy_sources([6, 4])
    streams = []
    for rank in (0, 1):
        monkeypatch.setattr(
            multi_source_sampler, 'get_dist_info', lambda rank=rank: (rank, 2))
        sampler = MultiSourceSampler(ds, [1, 1], seed=3)
        assert (sampler.rank, sampler.world_size) == (rank, 2)
        streams.append(take(sampler, 2 * 6))
    for k, n in enumerate([6, 4]):
        shares = [per_source_draws(ds, s, k)[:n // 2] for s in streams]
        assert not set(shares[0]) & set(shares[1])
        assert sorted(shares[0] + shares[1]) == list(range(n))


def test_sampler_errors():
    ds = toy_sources([3, 2])
    with pytest.raises(ValueError, match=r'3 entries.*2 sources'):
        MultiSourceSampler(ds, [1, 1, 1], seed=0)
    with pytest.raises(ValueError, match='>= 1'):
        MultiSourceSampler(ds, [1, 0], seed=0)
    with pytest.raises(TypeError, match='MultiSourceDataset'):
        MultiSourceSampler(_ToyDataset(3), 1, seed=0)
    gap = MultiSourceDataset(sources=[
        dict(dataset=_ToyDataset(2), domain=1, tasks=SEG_TASKS),
        dict(dataset=_ToyDataset(2), domain=3, tasks=DEPTH_TASKS)
    ])
    with pytest.raises(ValueError, match=r'1\.\.2'):
        MultiSourceSampler(gap, 1, seed=0)


def test_batch_size_mismatch_names_both_numbers():
    ds = toy_sources([4, 4])
    loader = DataLoader(
        ds,
        batch_size=3,
        sampler=MultiSourceSampler(ds, [2, 2], seed=0),
        collate_fn=pseudo_collate)
    with pytest.raises(ValueError, match=r'batch_size is 3.*blocks of 4'):
        next(iter(loader))


def test_refetch_stays_in_the_source():
    # the pipeline rejects sample 0 of every source
    ds = toy_sources([3, 3],
                     pipeline=[lambda r: None if r['index'] == 0 else r])
    for idx in (0, 3):
        results = ds[idx]
        assert results['index'] != 0
        assert results['domain'] == ds.source_of(idx)[0] + 1


# ---------------------------------------------------------------------------
# dataloaders
# ---------------------------------------------------------------------------
def check_batch(batch, per_source):
    samples = batch['data_samples']
    assert len(samples) == sum(per_source) == len(batch['inputs'])
    domains = [s.metainfo['domain'] for s in samples]
    assert domains == [
        k + 1 for k, b in enumerate(per_source) for _ in range(b)
    ]
    for sample in samples:
        tasks = sample.metainfo['labelled_tasks']
        assert tasks == (
            SEG_TASKS if sample.metainfo['domain'] == 1 else DEPTH_TASKS)
        assert ('gt_sem_seg' in sample) == ('seg' in tasks)
        assert ('gt_depth_map' in sample) == ('depth' in tasks)


def test_dataloader_batches_of_two_cities(cs_root):
    ds = two_cities(cs_root)
    loader = DataLoader(
        ds,
        batch_size=4,
        sampler=MultiSourceSampler(ds, [2, 2], seed=0),
        collate_fn=pseudo_collate)
    it = iter(loader)
    seen = set()
    for _ in range(2):
        batch = next(it)
        check_batch(batch, [2, 2])
        assert batch['inputs'][0].shape == (3, CS_H, CS_W)
        seen |= {s.metainfo['img_path'] for s in batch['data_samples']}
    # 2 batches x 2 per source: all of Cityscapes (2), 4 of train_extra's 3
    assert len(seen) == 5


def test_runner_builds_the_contract_config(cs_root):
    ds_cfg = dict(
        type='MultiSourceDataset',
        sources=[
            dict(
                dataset=cityscapes_cfg(cs_root, 'train'),
                domain=1,
                tasks=SEG_TASKS),
            dict(
                dataset=cityscapes_cfg(cs_root, 'train_extra', seg=False),
                domain=2,
                tasks=DEPTH_TASKS)
        ])
    loader = Runner.build_dataloader(
        dict(
            batch_size=3,
            num_workers=0,
            sampler=dict(
                type='MultiSourceSampler', batch_size_per_source=[1, 2]),
            dataset=ds_cfg),
        seed=0)
    assert isinstance(loader.sampler, MultiSourceSampler)
    assert loader.sampler.seed == 0
    check_batch(next(iter(loader)), [1, 2])


def test_validation_with_default_sampler(cs_root):
    # every domain's validation set, labelling what it has; test_mode
    ds = MultiSourceDataset(
        sources=[
            dict(
                dataset=cityscapes_cfg(cs_root, 'train'),
                domain=1,
                tasks=('seg', 'depth')),
            dict(
                dataset=cityscapes_cfg(cs_root, 'train_extra', seg=False),
                domain=2,
                tasks=DEPTH_TASKS)
        ],
        test_mode=True)
    assert all(d.test_mode for d in ds.datasets)
    loader = DataLoader(
        ds,
        batch_size=2,
        sampler=DefaultSampler(ds, shuffle=False, seed=0),
        collate_fn=pseudo_collate)
    samples = [s for batch in loader for s in batch['data_samples']]
    assert [s.metainfo['domain'] for s in samples] == [1, 1, 2, 2, 2]
    assert all('gt_depth_map' in s for s in samples)
    assert ['gt_sem_seg' in s for s in samples] == [True] * 2 + [False] * 3
