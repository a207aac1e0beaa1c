# Copyright (c) mmdepthseg contributors. All rights reserved.
import torch.nn as nn
from torch import Tensor


class SSIM(nn.Module):
    """Per-pixel structural dissimilarity ``clamp((1 - SSIM) / 2, 0, 1)``.

    SSIM (Wang et al., 2004) over 3x3 windows, with local means, variances
    and covariance taken by 3x3 average pooling of reflection-padded inputs
    (as monodepth2's photometric loss):

    ``SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) /
    ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))``

    Note that the module returns the *dissimilarity* ``(1 - SSIM) / 2``
    clamped to [0, 1] (0 for identical images), ready to be used as a loss
    term, not SSIM itself.

    Args:
        c1 (float): Luminance stabiliser. Defaults to 0.01 ** 2.
        c2 (float): Contrast stabiliser. Defaults to 0.03 ** 2.
    """

    def __init__(self, c1: float = 0.01**2, c2: float = 0.03**2) -> None:
        super().__init__()
        self.c1 = c1
        self.c2 = c2
        self.pool = nn.AvgPool2d(kernel_size=3, stride=1)
        self.pad = nn.ReflectionPad2d(1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Compute the per-pixel dissimilarity.

        Args:
            x (Tensor): (B, C, H, W) image, values in [0, 1] (H, W >= 2 for
                reflection padding).
            y (Tensor): (B, C, H, W) image, values in [0, 1].

        Returns:
            Tensor: (B, C, H, W) ``clamp((1 - SSIM) / 2, 0, 1)`` per pixel
            and channel.
        """
        if x.shape != y.shape:
            raise ValueError('SSIM expects inputs of one shape, got '
                             f'{tuple(x.shape)} and {tuple(y.shape)}')
        x = self.pad(x)
        y = self.pad(y)
        mu_x = self.pool(x)
        mu_y = self.pool(y)
        sigma_x = self.pool(x * x) - mu_x * mu_x
        sigma_y = self.pool(y * y) - mu_y * mu_y
        sigma_xy = self.pool(x * y) - mu_x * mu_y
        numerator = (2 * mu_x * mu_y + self.c1) * (2 * sigma_xy + self.c2)
        denominator = (mu_x * mu_x + mu_y * mu_y + self.c1) * (
            sigma_x + sigma_y + self.c2)
        return ((1 - numerator / denominator) / 2).clamp(0, 1)
