# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Fetching and verifying pretrained checkpoints, without the network.

Downloads go through ``urlopen`` in :mod:`mmdepthseg.utils.pretrained`,
replaced here by a fake server; ``TORCH_HOME`` points at a temporary
folder, so the real cache is never read or written.
"""
import hashlib
import io
import os
import os.path as osp
import pickle
from urllib.error import URLError

import pytest
import torch

from mmdepthseg.utils import pretrained as pt

URL = 'https://example.invalid/models/tiny-0123abcd.pth'


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    home = tmp_path / 'torch_home'
    monkeypatch.setenv('TORCH_HOME', str(home))
    monkeypatch.delenv(pt.OFFLINE_ENV, raising=False)
    return home


def _payload():
    buf = io.BytesIO()
    torch.save({'w': torch.arange(6.).view(2, 3), 'fc.bias': torch.ones(2)},
               buf)
    return buf.getvalue()


class _FakeServer:
    """Stands in for ``urlopen``: serves ``data`` and counts requests."""

    def __init__(self, data=None, error=None):
        self.data, self.error, self.requests = data, error, []

    def __call__(self, request, timeout=None):
        self.requests.append(request.full_url)
        if self.error is not None:
            raise self.error
        return _Response(self.data)


class _Response(io.BytesIO):
    """An HTTP response: a byte stream with headers."""

    def __init__(self, data):
        super().__init__(data)
        self.headers = {'Content-Length': str(len(data))}


def test_cache_path_is_torch_hub_checkpoints(torch_home):
    assert pt.cache_path(URL) == osp.join(
        str(torch_home), 'hub', 'checkpoints', 'tiny-0123abcd.pth')
    assert pt.cache_path('open-mmlab://resnet101_v1c').endswith(
        osp.join('hub', 'checkpoints', 'resnet101_v1c-e67eebb6.pth'))


def test_mmengine_aliases_resolve_to_their_urls():
    assert pt.resolve_url('open-mmlab://resnet101_v1c') == \
        pt.PRETRAINED_CHECKPOINTS['resnet101_v1c'].url
    assert pt.resolve_url('torchvision://resnet18') == \
        pt.PRETRAINED_CHECKPOINTS['resnet18'].url
    with pytest.raises(KeyError, match='no_such_net'):
        pt.resolve_url('open-mmlab://no_such_net')


def test_verify_accepts_the_full_hash_and_a_prefix(tmp_path):
    path = tmp_path / 'f.bin'
    path.write_bytes(b'mmdepthseg')
    digest = hashlib.sha256(b'mmdepthseg').hexdigest()
    assert pt.verify_sha256(str(path), digest) == digest
    assert pt.verify_sha256(str(path), digest[:8].upper()) == digest
    with pytest.raises(ValueError, match='8 to 64 hexadecimal'):
        pt.verify_sha256(str(path), digest[:6])
    # what --cfg-options makes of a pin of decimal digits
    with pytest.raises(ValueError, match='decimal digits only'):
        pt.verify_sha256(str(path), 12345678)


def test_a_mismatch_names_file_expected_and_actual_hash(tmp_path):
    path = tmp_path / 'resnet18-f37072fd.pth'
    path.write_bytes(b'not the weights')
    actual = hashlib.sha256(b'not the weights').hexdigest()
    expected = pt.PRETRAINED_CHECKPOINTS['resnet18'].sha256
    with pytest.raises(pt.ChecksumMismatchError) as err:
        pt.fetch_checkpoint(
            str(path), expected, cfg_key='model.backbone.init_cfg')
    msg = str(err.value)
    assert str(path) in msg and expected in msg and actual in msg
    assert '--cfg-options model.backbone.init_cfg=None' in msg


def test_offline_error_names_url_cache_path_and_switch(
        torch_home, monkeypatch):
    monkeypatch.setenv(pt.OFFLINE_ENV, '1')
    server = _FakeServer(data=_payload())
    monkeypatch.setattr(pt, 'urlopen', server)
    with pytest.raises(pt.PretrainedWeightsUnavailable) as err:
        pt.fetch_checkpoint(
            URL,
            'ffffffff',
            cfg_key='model.pose_net.encoder.init_cfg',
            owner='ResNetEncoder')
    msg = str(err.value)
    assert URL in msg
    assert pt.cache_path(URL) in msg
    assert '--cfg-options model.pose_net.encoder.init_cfg=None' in msg
    assert pt.OFFLINE_ENV in msg
    assert server.requests == []  # offline: not even tried
    assert not osp.exists(pt.cache_path(URL))


def test_unreachable_server_gives_the_same_error(torch_home, monkeypatch):
    server = _FakeServer(error=URLError('Name or service not known'))
    monkeypatch.setattr(pt, 'urlopen', server)
    with pytest.raises(pt.PretrainedWeightsUnavailable) as err:
        pt.fetch_checkpoint(URL, 'ffffffff')
    msg = str(err.value)
    assert URL in msg and pt.cache_path(URL) in msg
    assert 'Name or service not known' in msg
    assert '--cfg-options model.backbone.init_cfg=None' in msg


def test_download_is_verified_cached_and_reused(torch_home, monkeypatch):
    data = _payload()
    digest = hashlib.sha256(data).hexdigest()
    server = _FakeServer(data=data)
    monkeypatch.setattr(pt, 'urlopen', server)
    state = pt.load_pretrained_state_dict(URL, digest)
    assert torch.equal(state['w'], torch.arange(6.).view(2, 3))
    assert server.requests == [URL]
    with open(pt.cache_path(URL), 'rb') as f:
        assert f.read() == data
    # second time from the cache, no request
    monkeypatch.setattr(pt, 'urlopen', _FakeServer(error=AssertionError()))
    monkeypatch.setenv(pt.OFFLINE_ENV, '1')
    assert torch.equal(pt.load_pretrained_state_dict(URL, digest)['w'],
                       state['w'])


def test_a_corrupt_download_is_not_kept(torch_home, monkeypatch):
    data = _payload()
    monkeypatch.setattr(pt, 'urlopen', _FakeServer(data=data[:-10]))
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(pt.ChecksumMismatchError) as err:
        pt.fetch_checkpoint(URL, digest)
    assert digest in str(err.value)
    assert hashlib.sha256(data[:-10]).hexdigest() in str(err.value)
    folder = osp.dirname(pt.cache_path(URL))
    assert os.listdir(folder) == []  # neither the file nor a temporary


def test_a_cached_file_that_changed_is_refused(torch_home):
    path = pt.cache_path(URL)
    os.makedirs(osp.dirname(path))
    with open(path, 'wb') as f:
        f.write(_payload())
    with pytest.raises(pt.ChecksumMismatchError, match=URL):
        pt.fetch_checkpoint(URL, '0123abcd')


def test_missing_local_file_names_path_and_switch(tmp_path):
    path = str(tmp_path / 'nowhere' / 'vgg16.pth')
    with pytest.raises(pt.PretrainedWeightsUnavailable) as err:
        pt.fetch_checkpoint(path, None, cfg_key='model.backbone.init_cfg')
    assert path in str(err.value)
    assert 'model.backbone.init_cfg=None' in str(err.value)


def test_files_that_run_code_are_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.getcwd, ())

    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'w': Payload()}, f)
    with pytest.raises(ValueError, match='weights_only'):
        pt.load_pretrained_state_dict(str(path))


def test_pinned_hashes_agree_with_the_file_names():
    """torchvision's, OpenMMLab's and timm's file names end in the first
    8 hex digits of the file's SHA-256: every pin must start with them."""
    for name, spec in pt.PRETRAINED_CHECKPOINTS.items():
        stem = osp.splitext(osp.basename(spec.url))[0]
        assert spec.sha256.startswith(stem.rsplit('-', 1)[1]), name
        assert len(spec.sha256) in (8, 64), name
