# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch

from mmdepthseg.models.layers.geometry import transformation_from_parameters
from mmdepthseg.models.pose import PoseNet


def _net() -> PoseNet:
    torch.manual_seed(0)
    net = PoseNet()
    net.init_weights()
    return net.eval()


def test_pose_net_returns_small_rigid_transforms():
    net = _net()
    tgt, src = torch.rand(2, 3, 64, 96), torch.rand(2, 3, 64, 96)
    T = net(tgt, src, source_is_before=False)
    assert T.shape == (2, 4, 4)
    R = T[:, :3, :3]
    torch.testing.assert_close(
        R @ R.transpose(1, 2), torch.eye(3).expand(2, 3, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(T[:, 3], torch.tensor([[0., 0, 0, 1]] * 2))
    # Monodepth2's 0.01 output scaling keeps initial poses near identity
    assert (T[:, :3, :3] - torch.eye(3)).abs().max() < 0.05


def test_frames_fed_in_temporal_order_and_past_source_inverted():
    net = _net()
    a, b = torch.rand(1, 3, 64, 96), torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        # source b before target a: the network sees (b, a), then inverts
        axisangle, translation = net.decoder(
            net.encoder(torch.cat([b, a], dim=1))[-1])
        expected = transformation_from_parameters(
            axisangle, translation, invert=True)
        got = net(a, b, source_is_before=True)
        torch.testing.assert_close(got, expected)
        # (t, t+1) pair: (a, b) in that order, not inverted
        axisangle, translation = net.decoder(
            net.encoder(torch.cat([a, b], dim=1))[-1])
        torch.testing.assert_close(
            net(a, b, source_is_before=False),
            transformation_from_parameters(axisangle, translation))


def test_three_channel_weights_are_duplicated_and_halved(tmp_path):
    from mmdepthseg.models.backbones import ResNetEncoder
    torch.manual_seed(1)
    rgb = ResNetEncoder(depth=18, in_channels=3)
    path = str(tmp_path / 'resnet18.pth')
    torch.save(dict(state_dict=rgb.state_dict()), path)
    net = PoseNet(pretrained=path)
    net.init_weights()
    w = rgb.conv1.weight
    torch.testing.assert_close(net.encoder.conv1.weight,
                               torch.cat([w, w], dim=1) / 2)
    torch.testing.assert_close(net.encoder.layer4[1].conv2.weight,
                               rgb.layer4[1].conv2.weight)


def test_encoder_must_read_six_channels():
    with pytest.raises(ValueError, match='in_channels=6'):
        PoseNet(encoder=dict(type='ResNetEncoder', depth=18, in_channels=3))
