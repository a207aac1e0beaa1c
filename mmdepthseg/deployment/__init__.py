# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Deployment: ONNX export of the inference graph (optional extra)."""
from .onnx_export import (DepthSegExportWrapper, build_export_model,
                          export_onnx, load_image_input, verify_onnx)

__all__ = [
    'DepthSegExportWrapper', 'build_export_model', 'export_onnx',
    'load_image_input', 'verify_onnx'
]
