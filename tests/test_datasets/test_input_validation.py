# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Every class of bad input in the dataset readers names its file.

Each test writes a small tree with the synthetic writers of
``mmdepthseg.synthetic`` (Synscapes, which has none, with the
hand-written tree of ``test_synscapes``), corrupts one file and checks that
the error, or under ``'ignore'`` the logged warning, names that file, the
key or value and what was expected.
"""
import json
import os
import os.path as osp
import pickle
import re
import shutil

import cv2
import numpy as np
import pytest
from test_datasets.test_synscapes import write_synscapes_tree

from mmdepthseg.datasets import (CityscapesDepthSegDataset, KittiRawDataset,
                                 NYUDepthSegDataset, SynscapesDataset)
from mmdepthseg.datasets import validation as V
from mmdepthseg.datasets.transforms import (LoadDepthSegAnnotations,
                                            LoadMultiViewImages, MapSegLabels)
from mmdepthseg.datasets.utils import read_image
from mmdepthseg.datasets.validation import DatasetError

LOAD = [dict(type='LoadMultiViewImages'), dict(type='LoadDepthSegAnnotations')]
DATE = '2011_09_26'
VAL = 'splits/synthetic/val_files.txt'


def _named(path: str, *parts: str) -> str:
    """A regex: ``path`` then every part, in order."""
    return '.*'.join(re.escape(p) for p in (path, ) + parts)


@pytest.fixture(scope='module')
def kitti_tree(tmp_path_factory):
    from mmdepthseg.synthetic import write_kitti_raw
    root = str(tmp_path_factory.mktemp('kitti') / 'tree')
    write_kitti_raw(
        root, num_drives=2, frames_per_drive=4, height=32, width=96)
    return root


@pytest.fixture(scope='module')
def cityscapes_tree(tmp_path_factory):
    from mmdepthseg.synthetic import write_cityscapes
    root = str(tmp_path_factory.mktemp('cityscapes') / 'tree')
    write_cityscapes(
        root,
        cities={'train': ['aachen']},
        frames_per_city=2,
        height=32,
        width=64)
    return root


@pytest.fixture(scope='module')
def nyu_tree(tmp_path_factory):
    from mmdepthseg.synthetic import write_nyu
    root = str(tmp_path_factory.mktemp('nyu') / 'tree')
    write_nyu(root, rooms={'train': 1}, views_per_room=2, height=48, width=64)
    return root


def _copy(tree: str, tmp_path) -> str:
    root = str(tmp_path / 'copy')
    shutil.copytree(tree, root)
    return root


def _kitti(root: str, split: str = VAL, **kwargs) -> KittiRawDataset:
    args = dict(
        split_file=split,
        data_root=root,
        seg_dir='semantic_{cam:02d}',
        load_gt_depth=True,
        gt_depth='camera_z',
        velodyne_pixel_offset=0,
        pipeline=LOAD)
    args.update(kwargs)
    return KittiRawDataset(**args)


def _edit_calib(root: str, key: str, value=None) -> str:
    """Drop line ``key`` of ``calib_cam_to_cam.txt`` (``value`` None) or
    replace its value."""
    path = osp.join(root, DATE, 'calib_cam_to_cam.txt')
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        if line.split(':')[0] == key:
            if value is None:
                continue
            line = f'{key}: {value}'
        out.append(line)
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    return path


@pytest.fixture
def warnings_log(monkeypatch):
    """The warnings that ``'ignore'`` repairs log."""
    logged = []
    monkeypatch.setattr(V, '_log', logged.append)
    return logged


# ---------------------------------------------------------------------------
# the error type
# ---------------------------------------------------------------------------
def test_dataset_error_is_a_value_error_that_pickles():
    err = DatasetError('a/b.png', 'holds 7', 'ids 0..5', 'label', line=3)
    assert isinstance(err, ValueError)
    assert str(err) == 'a/b.png:3: holds 7; expected ids 0..5'
    again = pickle.loads(pickle.dumps(err))  # across worker processes
    assert str(again) == str(err) and again.kind == 'label'


# ---------------------------------------------------------------------------
# calibration
# ---------------------------------------------------------------------------
def test_calibration_missing_key_names_file_and_key(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    path = _edit_calib(root, 'P_rect_02')
    # was a bare KeyError: 'P_rect_02'
    with pytest.raises(
            DatasetError,
            match=_named(path, "'P_rect_02'", 'P_rect_02: <12 numbers>')):
        _kitti(root, intrinsics_mode='calib')


def test_calibration_non_numeric_value_names_file_and_key(
        kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    path = _edit_calib(root, 'S_rect_02', 'wide high')
    with pytest.raises(
            DatasetError,
            match=_named(path, "'S_rect_02'", "'wide high'",
                         'expected 2 numbers')):
        _kitti(root)


def test_calibration_negative_focal_length(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    p = np.array([[-55.68, 0, 48, 0], [0, 61.44, 16, 0], [0, 0, 1, 0]])
    path = _edit_calib(root, 'P_rect_02', ' '.join(map(str, p.ravel())))
    with pytest.raises(
            DatasetError,
            match=_named(path, 'P_rect_02', 'fx=-55.68', 'expected fx > 0')):
        _kitti(root)


def test_velodyne_calibration_missing_key(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    path = osp.join(root, DATE, 'calib_velo_to_cam.txt')
    with open(path) as f:
        text = ''.join(line for line in f if not line.startswith('T:'))
    with open(path, 'w') as f:
        f.write(text)
    with pytest.raises(DatasetError, match=_named(path, 'no key T')):
        _kitti(root)


# ---------------------------------------------------------------------------
# split files
# ---------------------------------------------------------------------------
def test_split_lines_naming_missing_dates_and_drives(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    split = osp.join(root, 'splits', 'broken.txt')
    with open(split, 'w') as f:
        f.write(f'{DATE}/{DATE}_drive_0002_sync 1 l\n'
                f'{DATE}/{DATE}_drive_0099_sync 1 l\n'
                '\n'
                f'2011_10_03/2011_10_03_drive_0042_sync 5 r\n'
                f'{DATE}/{DATE}_drive_0099_sync 2 l\n')
    with pytest.raises(DatasetError) as err:
        _kitti(root, split=split)
    msg = str(err.value)
    assert msg.startswith(split + ': ')
    # every missing folder at once, with its lines
    assert '1 date folder(s) missing: 2011_10_03 (line 4)' in msg
    assert (f'1 drive folder(s) missing: {DATE}/{DATE}_drive_0099_sync '
            '(line 2, 5)') in msg


def test_malformed_split_lines_all_counted(kitti_tree, tmp_path):
    split = str(tmp_path / 'bad.txt')
    with open(split, 'w') as f:
        f.write(f'{DATE}/{DATE}_drive_0002_sync 1 l\nfoo\nbar 1 x\n')
    with pytest.raises(
            DatasetError,
            match=_named(split + ":2: got 'foo'",
                         '1 more malformed lines: 3')):
        _kitti(kitti_tree, split=split)


# ---------------------------------------------------------------------------
# label maps
# ---------------------------------------------------------------------------
def _write_png(path: str, arr: np.ndarray) -> str:
    assert cv2.imwrite(path, arr)
    return path


def test_label_id_out_of_range(kitti_tree, tmp_path, warnings_log):
    root = _copy(kitti_tree, tmp_path)
    ds = _kitti(root)
    seg_path = ds.get_data_info(0)['seg_map_paths'][0]
    seg = cv2.imread(seg_path, cv2.IMREAD_UNCHANGED)
    seg[0, :3] = 40  # a 40-class id in a 19-class trainId map
    _write_png(seg_path, seg)
    # was: IndexError: Target 40 is out of bounds, deep in the loss
    with pytest.raises(
            DatasetError,
            match=_named(seg_path, 'ids [40] (3 pixels)',
                         'outside the 19 classes',
                         'expected ids 0..18 or 255')):
        ds[0]
    lenient = _kitti(
        root,
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadDepthSegAnnotations', invalid_label='ignore')
        ])
    before = V.defect_counts().get('label', 0)
    out = lenient[0]['gt_seg_map'][0]
    assert (out[0, :3] == 255).all()
    np.testing.assert_array_equal(out[1:], seg[1:])
    assert V.defect_counts()['label'] == before + 1
    assert seg_path in warnings_log[-1] and 'repaired' in warnings_log[-1]


def test_label_id_unknown_to_the_id_table(cityscapes_tree, tmp_path,
                                          warnings_log):
    root = _copy(cityscapes_tree, tmp_path)
    ds = CityscapesDepthSegDataset(
        root,
        seg_map_suffix='_gtFine_labelIds.png',
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=LOAD)
    seg_path = ds.get_data_info(0)['seg_map_paths'][0]
    seg = cv2.imread(seg_path, cv2.IMREAD_UNCHANGED)
    seg[5, 5] = 200  # no Cityscapes labelId (was silently "ignore")
    _write_png(seg_path, seg)
    with pytest.raises(
            DatasetError,
            match=_named(seg_path, 'ids [200] (1 pixels)',
                         "'cityscapes_labelIds' does not define",
                         'stored ids in 0..33')):
        ds[0]
    ds.pipeline.transforms[1].invalid_label = 'ignore'
    assert ds[0]['gt_seg_map'][0, 5, 5] == 255
    assert seg_path in warnings_log[-1]


def test_label_map_as_colour_png(nyu_tree, tmp_path):
    root = _copy(nyu_tree, tmp_path)
    ds = NYUDepthSegDataset(root, img_suffix='.jpg', pipeline=LOAD)
    seg_path = ds.get_data_info(0)['seg_map_paths'][0]
    _write_png(seg_path, np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(
            DatasetError,
            match=_named(seg_path, '3-channel 8-bit',
                         'single-channel uint8 label map')):
        ds[0]


def test_map_seg_labels_checks_its_table(tmp_path):
    seg = np.full((1, 2, 3), 3, np.uint8)
    seg[0, 0, 0] = 30  # no trainId
    results = dict(
        gt_seg_map=seg,
        seg_fields=['gt_seg_map'],
        seg_map_paths=['a/label.png'],
        num_classes=7)
    with pytest.raises(DatasetError, match=_named('a/label.png', '[30]')):
        MapSegLabels()(dict(results, gt_seg_map=seg.copy()))
    out = MapSegLabels(invalid_label='ignore')(
        dict(results, gt_seg_map=seg.copy()))
    assert out['gt_seg_map'][0, 0, 0] == 255 and out['gt_seg_map'][0, 1,
                                                                   2] == 1


# ---------------------------------------------------------------------------
# depth, disparity, pseudo depth and confidence maps
# ---------------------------------------------------------------------------
def _cityscapes_depth(root):
    return CityscapesDepthSegDataset(
        root,
        data_prefix=dict(
            img_path='leftImg8bit/train',
            disp_path='disparity/train',
            camera_path='camera/train'),
        pipeline=LOAD)


def test_disparity_without_valid_pixel(cityscapes_tree, tmp_path,
                                       warnings_log):
    root = _copy(cityscapes_tree, tmp_path)
    ds = _cityscapes_depth(root)
    path = ds.get_data_info(1)['depth_map_paths'][0]
    _write_png(path, np.zeros((32, 64), np.uint16))  # was: trained silently
    with pytest.raises(
            DatasetError,
            match=_named(path, 'disparity map has no valid pixel',
                         'expected at least one value > 0')):
        ds[1]
    ds.pipeline.transforms[1].invalid_depth = 'ignore'
    assert not ds[1]['gt_depth_map'].any()
    assert path in warnings_log[-1]
    assert ds[0]['gt_depth_map'].any()  # the other frame is fine


def test_disparity_of_wrong_bit_depth(cityscapes_tree, tmp_path):
    root = _copy(cityscapes_tree, tmp_path)
    ds = _cityscapes_depth(root)
    path = ds.get_data_info(0)['depth_map_paths'][0]
    _write_png(path, np.full((32, 64), 9, np.uint8))
    with pytest.raises(
            DatasetError,
            match=_named(path, '1-channel 8-bit uint8',
                         'single-channel uint16', 'p - 1')):
        ds[0]


def test_depth_png_of_wrong_size(nyu_tree, tmp_path):
    root = _copy(nyu_tree, tmp_path)
    ds = NYUDepthSegDataset(root, pipeline=LOAD)
    path = ds.get_data_info(0)['depth_map_paths'][0]
    _write_png(path, np.full((24, 32), 1000, np.uint16))
    with pytest.raises(
            DatasetError,
            match=_named(path, 'depth map size 32x24', 'image size 64x48')):
        ds[0]


def test_velodyne_scan_with_no_point_in_view(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    ds = _kitti(root)
    path = ds.get_data_info(0)['depth_map_paths'][0]
    points = np.fromfile(path, np.float32).reshape(-1, 4)
    points[:, 0] = -np.abs(points[:, 0]) - 1  # everything behind the car
    points.tofile(path)
    with pytest.raises(
            DatasetError, match=_named(path, 'velodyne scan',
                                       'no valid pixel')):
        ds[0]


@pytest.mark.parametrize('bad', ['nan', 'inf', 'negative'])
def test_npy_depth_with_nan_inf_or_negative(tmp_path, bad, warnings_log):
    root = write_synscapes_tree(str(tmp_path / 'syn'))
    ds = SynscapesDataset(
        root,
        split=None,
        split_ids=dict(train=(1, 3), val=(4, 4), test=(5, 5)),
        pipeline=LOAD)
    path = ds.get_data_info(0)['depth_map_paths'][0]
    depth = np.load(path)
    depth[1, 2] = {'nan': np.nan, 'inf': np.inf, 'negative': -3.0}[bad]
    np.save(path, depth)
    counts = {
        'nan': '1 NaN, 0 Inf and 0',
        'inf': '0 NaN, 1 Inf and 0',
        'negative': '0 NaN, 0 Inf and 1'
    }[bad]
    with pytest.raises(
            DatasetError, match=_named(path, counts, 'finite values >= 0')):
        ds[0]
    ds.pipeline.transforms[1].invalid_depth = 'ignore'
    loaded = ds[0]['gt_depth_map'][0]
    assert loaded[1, 2] == 0 and np.isfinite(loaded).all()
    assert path in warnings_log[-1]


def _write_pseudo(root: str, info: dict, depth: np.ndarray,
                  conf: np.ndarray) -> None:
    for key, arr in (('pseudo_depth_paths', depth), ('pseudo_conf_paths',
                                                     conf)):
        for path in info[key]:
            os.makedirs(osp.dirname(path), exist_ok=True)
            _write_png(path, arr)


@pytest.mark.parametrize('defect',
                         ['empty depth', 'empty confidence', '8-bit depth'])
def test_pseudo_depth_and_confidence_maps(kitti_tree, tmp_path, defect):
    from mmdepthseg.stereo.pseudo_depth import (encode_conf_png,
                                                encode_depth_png)
    root = _copy(kitti_tree, tmp_path)
    kwargs = dict(
        load_gt_depth=False,
        seg_dir=None,
        pseudo_depth_dir='pseudo_depth_{cam:02d}',
        pseudo_conf_dir='pseudo_conf_{cam:02d}',
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadPseudoDepth')
        ])
    ds = _kitti(root, **kwargs)
    info = ds.get_data_info(0)
    depth = encode_depth_png(np.full((32, 96), 12.5))
    conf = encode_conf_png(np.full((32, 96), 0.75))
    if defect == 'empty depth':
        depth[:] = 0
        bad, match = info['pseudo_depth_paths'][0], 'no valid pixel'
    elif defect == 'empty confidence':
        conf[:] = 0
        bad, match = info['pseudo_conf_paths'][0], '0 everywhere'
    else:
        depth = depth.astype(np.uint8)
        bad, match = info['pseudo_depth_paths'][0], 'single-channel uint16'
    _write_pseudo(root, info, depth, conf)
    with pytest.raises(DatasetError, match=_named(bad, match)):
        ds[0]


# ---------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------
def test_grey_image_is_converted_with_a_warning(kitti_tree, tmp_path,
                                                warnings_log):
    root = _copy(kitti_tree, tmp_path)
    ds = _kitti(root)
    path = ds.get_data_info(0)['img_path']
    grey = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    _write_png(path, grey)
    img = ds[0]['img']
    assert img.shape == (32, 96, 3)
    for c in range(3):
        np.testing.assert_array_equal(img[..., c], grey)
    assert path in warnings_log[-1] and 'grey' in warnings_log[-1]


def test_rgba_image_loses_its_alpha(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    ds = _kitti(root)
    path = ds.get_data_info(0)['img_path']
    bgr = cv2.imread(path)
    alpha = np.full(bgr.shape[:2] + (1, ), 77, np.uint8)
    _write_png(path, np.concatenate([bgr, alpha], axis=2))
    np.testing.assert_array_equal(ds[0]['img'], bgr)


def test_16_bit_image_is_refused(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    ds = _kitti(root)
    path = ds.get_data_info(0)['img_path']
    _write_png(path, cv2.imread(path).astype(np.uint16) * 257)
    with pytest.raises(
            DatasetError,
            match=_named(path, '3-channel 16-bit uint16',
                         'expected an 8-bit colour image')):
        ds[0]


def test_cmyk_jpeg_is_refused(tmp_path):
    from PIL import Image
    path = str(tmp_path / 'cmyk.jpg')
    Image.new('CMYK', (8, 6), (10, 20, 30, 40)).save(path)
    with pytest.raises(
            DatasetError, match=_named(path, 'CMYK JPEG', 'an RGB or grey')):
        LoadMultiViewImages()(dict(img_path=path))
    rgb = str(tmp_path / 'rgb.jpg')
    Image.new('RGB', (8, 6), (10, 20, 30)).save(rgb)
    assert read_image(rgb).shape == (6, 8, 3)
    assert V.jpeg_num_components(open(rgb, 'rb').read()) == 3


# ---------------------------------------------------------------------------
# intrinsics
# ---------------------------------------------------------------------------
def test_cityscapes_camera_with_negative_focal_length(cityscapes_tree,
                                                      tmp_path):
    root = _copy(cityscapes_tree, tmp_path)
    path = osp.join(root, 'camera', 'train', 'aachen',
                    'aachen_000001_000019_camera.json')
    with open(path) as f:
        cam = json.load(f)
    cam['intrinsic']['fy'] = -cam['intrinsic']['fy']
    with open(path, 'w') as f:
        json.dump(cam, f)
    with pytest.raises(
            DatasetError, match=_named(path, 'singular or negative', 'fy=-')):
        _cityscapes_depth(root)


def test_cityscapes_camera_with_zero_baseline(cityscapes_tree, tmp_path):
    root = _copy(cityscapes_tree, tmp_path)
    path = osp.join(root, 'camera', 'train', 'aachen',
                    'aachen_000000_000019_camera.json')
    with open(path) as f:
        cam = json.load(f)
    cam['extrinsic']['baseline'] = 0
    with open(path, 'w') as f:
        json.dump(cam, f)
    with pytest.raises(
            DatasetError, match=_named(path, 'extrinsic.baseline is 0')):
        _cityscapes_depth(root)


def test_synscapes_singular_intrinsics(tmp_path):
    root = write_synscapes_tree(str(tmp_path / 'syn'))
    path = osp.join(root, 'meta', '2.json')
    with open(path) as f:
        meta = json.load(f)
    meta['camera']['intrinsic']['fx'] = 0.0
    with open(path, 'w') as f:
        json.dump(meta, f)
    with pytest.raises(DatasetError, match=_named(path, 'singular', 'fx=0')):
        SynscapesDataset(
            root,
            split=None,
            split_ids=dict(train=(1, 3), val=(4, 4), test=(5, 5)))


def test_nyu_intrinsics_argument_singular(nyu_tree):
    with pytest.raises(
            DatasetError,
            match=_named('NYUDepthSegDataset(intrinsics=...)', 'rows 2-3')):
        NYUDepthSegDataset(
            nyu_tree, intrinsics=[[500, 0, 320], [0, 500, 240], [0, 0, 0]])


def test_kitti_stereo_baseline_must_be_positive(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    p2 = np.array([[55.68, 0, 48, 10], [0, 61.44, 16, 0], [0, 0, 1, 0]])
    path = _edit_calib(root, 'P_rect_02', ' '.join(map(str, p2.ravel())))
    _edit_calib(root, 'P_rect_03', ' '.join(map(str, p2.ravel())))
    with pytest.raises(
            DatasetError, match=_named(path, 'stereo baseline of 0 m')):
        _kitti(root, frame_ids=(0, 's'), intrinsics_mode='calib')


# ---------------------------------------------------------------------------
# the loaders' arguments
# ---------------------------------------------------------------------------
def test_policies_are_checked():
    with pytest.raises(ValueError, match='invalid_label'):
        LoadDepthSegAnnotations(invalid_label='skip')
    with pytest.raises(ValueError, match='invalid_depth'):
        LoadDepthSegAnnotations(invalid_depth='warn')


# ---------------------------------------------------------------------------
# tools and the inferencer
# ---------------------------------------------------------------------------
def _run_tool(*parts, argv):
    import importlib.util
    path = osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
        *parts)
    spec = importlib.util.spec_from_file_location('tool', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.main(argv)


def test_pseudo_depth_tool_names_a_bad_calibration(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    path = _edit_calib(root, 'P_rect_03', '1 2 3')
    with pytest.raises(
            DatasetError, match=_named(path, "'P_rect_03'", '12 numbers')):
        _run_tool('generate_pseudo_depth.py', argv=[root, '--no-progress'])


def test_pseudo_depth_tool_names_a_refused_image(kitti_tree, tmp_path):
    root = _copy(kitti_tree, tmp_path)
    path = osp.join(root, DATE, f'{DATE}_drive_0001_sync', 'image_03', 'data',
                    '0000000000.png')
    _write_png(path, cv2.imread(path).astype(np.uint16) * 257)
    with pytest.raises(DatasetError, match=_named(path, '16-bit')):
        _run_tool('generate_pseudo_depth.py', argv=[root, '--no-progress'])


def test_pseudo_seg_names_empty_folders_and_bad_images(tmp_path):
    from mmdepthseg.apis.pseudo_seg import generate_pseudo_seg, predict_labels
    img_dir = str(tmp_path / 'imgs')
    os.makedirs(osp.join(img_dir, 'image_02'))
    _write_png(osp.join(img_dir, 'image_02', 'a.jpg'), np.zeros((4, 4, 3)))
    # was: "wrote 0 label maps"
    with pytest.raises(
            FileNotFoundError,
            match=_named(f'no *.png image under {img_dir}',
                         "containing 'image_0'")):
        generate_pseudo_seg(
            None,
            img_dir,
            str(tmp_path / 'out'),
            dir_map=[('image_0', 'semantic_0')])

    def failing_pipeline(results):
        raise AssertionError('failed to load image')

    with pytest.raises(
            DatasetError, match=_named('x/a.png', 'failed to load image')):
        predict_labels(None, failing_pipeline, ['x/a.png'])


def test_kitti_converter_lists_missing_drives_and_empty_scans(
        kitti_tree, tmp_path):
    from mmdepthseg.converters.kitti import export_eigen_gt
    root = _copy(kitti_tree, tmp_path)
    split = osp.join(root, 'splits', 'synthetic', 'test_files.txt')
    with open(split, 'a') as f:
        f.write(f'{DATE}/{DATE}_drive_0007_sync 0000000001 l\n')
    out = str(tmp_path / 'gt.npz')
    kwargs = dict(pixel_offset=0, gt_depth='camera_z')
    missing = f'{DATE}_drive_0007_sync (line 3)'
    with pytest.raises(DatasetError, match=_named(split, missing)):
        export_eigen_gt(root, split, out, **kwargs)
    with open(split) as f:
        lines = f.read().splitlines()[:2]
    with open(split, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    scan = osp.join(root, DATE, f'{DATE}_drive_0002_sync', 'velodyne_points',
                    'data', '0000000002.bin')
    np.zeros((0, 4), np.float32).tofile(scan)
    with pytest.raises(DatasetError, match=_named(scan, 'no valid pixel')):
        export_eigen_gt(root, split, out, **kwargs)
    assert not osp.exists(out)  # nothing half-written


def test_isprs_converter_reports_tiles_without_valid_ndsm(tmp_path):
    from mmdepthseg.converters.isprs import convert_isprs
    from mmdepthseg.synthetic import write_isprs
    summary = write_isprs(
        str(tmp_path / 'raw'), tiles={'potsdam': {
            'train': 2
        }}, tile_size=6.)
    city = summary['cities']['potsdam']
    ndsm = osp.join(city['raw_root'], '1_DSM_normalisation',
                    'dsm_potsdam_02_11_normalized_lastools.tif')
    _write_png(ndsm, np.full(city['tile_shape'], 255, np.uint8))
    result = convert_isprs(
        city['raw_root'],
        str(tmp_path / 'out'),
        'potsdam',
        splits=city['splits'],
        patch_size=64,
        ndsm_nodata=255,
        progress=False)
    assert len(result['warnings']) == 1
    assert result['warnings'][0].startswith(ndsm + ': no valid nDSM pixel')


def test_inferencer_array_inputs_are_converted_or_refused():
    from mmdepthseg.apis.inferencer import MultiViewInferencerLoader
    from mmdepthseg.apis.pointcloud import as_intrinsics_matrix
    check = MultiViewInferencerLoader.check_array
    bgra = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(check(bgra), bgra[..., :3])
    grey = np.arange(6, dtype=np.uint8).reshape(2, 3, 1)
    assert check(grey).shape == (2, 3, 3)
    with pytest.raises(ValueError, match='8-bit.*uint16'):
        check(np.zeros((2, 3, 3), np.uint16))
    with pytest.raises(ValueError, match=r'\[0, 0, 1\]'):
        as_intrinsics_matrix([[500, 0, 320], [0, 500, 240], [0, 0, 0]])


def test_nyu_converter_counts_frames_without_depth(tmp_path, monkeypatch):
    pytest.importorskip('h5py')
    scipy_io = pytest.importorskip('scipy.io')
    from test_tools.test_nyu_converter import _frames, _write_labeled_mat

    from mmdepthseg.converters import nyu as converter
    frames = _frames()
    frames[3][1][:] = np.nan  # frame 3: no depth at all
    labeled = str(tmp_path / 'labeled.mat')
    _write_labeled_mat(labeled, frames)
    splits = str(tmp_path / 'splits.mat')
    scipy_io.savemat(
        splits,
        dict(trainNdxs=np.array([[1.], [3.]]), testNdxs=np.array([[2.]])))
    logged = []
    monkeypatch.setattr(converter, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    summary = converter.convert_nyu(
        labeled, splits, str(tmp_path / 'out'), progress=False)
    assert summary['written'] == 3 and summary['frames_without_depth'] == [3]
    assert len(logged) == 1
    assert logged[0].startswith(f'{labeled}: frame 3 has no valid depth')
