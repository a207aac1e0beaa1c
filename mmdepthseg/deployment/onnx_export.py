# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ONNX export of the inference graph and its check with ONNX Runtime.

The exported graph is **the model's own** ``predict`` up to (excluding)
``postprocess_result``: :class:`DepthSegExportWrapper` runs
``model.predict`` and takes the tensors the model hands to
``postprocess_result``, so every model family (``MultiTaskSegmentor``,
``FSREDepth``, ``PseudoMTL``, ``SOSDNet``, ``SemiMTL``) exports its own
inference path without a second copy of it. The graph:

- input ``inputs``: float32 ``(B, 3, H, W)``, **one** RGB view already
  normalised as the config's data preprocessor does
  (``(rgb - mean) / std``; the values are in the model's metadata), H and W
  multiples of the preprocessor's ``size_divisor``;
- output ``depth`` (models with depth): float32 ``(B, 1, H, W)``, the depth
  ``model.predict`` returns as ``pred_depth_map`` (metres; relative scale
  for self-supervised models such as FSRE-Depth; SemiMTL: its regression
  target, inverse depth or height), at the input size;
- output ``seg_logits`` (models with segmentation): float32
  ``(B, C, H, W)``, the segmentation logits before ``softmax`` / ``argmax``
  (``sigmoid`` for a single-class head), at the input size.

What ``postprocess_result`` does afterwards stays outside the graph:
cropping the padding, undoing a test-time flip and resizing to the
original image size. The batch axis is always dynamic; H and W are fixed
unless ``dynamic_shape`` is asked for, which succeeds only when every
operation of the model keeps the sizes symbolic (the export fails with an
explanation otherwise).

``onnx``, ``onnxscript`` (torch's exporter) and ``onnxruntime`` are
optional dependencies: ``pip install 'mmdepthseg[onnx]'`` or
``pip install -r requirements/optional.txt``.
"""
import importlib
import json
import logging
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmseg.structures import SegDataSample
from torch import Tensor, nn

from mmdepthseg.apis.model_loader import \
    drop_pretrained as _drop_pretrained  # noqa: F401 (old private name)
from mmdepthseg.utils.io import atomic_write_bytes

#: Graph output names, in the order the graph returns them.
OUTPUT_NAMES = ('depth', 'seg_logits')
#: Graph input name.
INPUT_NAME = 'inputs'
#: Batch size of the example input the graph is traced with. torch.export
#: specialises size-1 dimensions, so tracing with one image would fix the
#: batch axis; the exported graph accepts any batch size.
TRACE_BATCH = 2

INSTALL_HINT = ("install the optional ONNX extra: pip install "
                "'mmdepthseg[onnx]' (or pip install -r "
                'requirements/optional.txt)')


def require(*modules: str) -> None:
    """Import the optional packages or fail saying how to install them.

    Args:
        *modules (str): Module names, e.g. ``'onnx'``, ``'onnxruntime'``.

    Raises:
        ImportError: Naming the missing packages and the install command.
    """
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f"ONNX export / verification needs {', '.join(missing)} (not "
            f'installed): {INSTALL_HINT}')


@contextmanager
def _quiet_logger(name: Optional[str] = None,
                  level: int = logging.WARNING) -> Iterator[None]:
    """Raise a logger's level for a block (MMEngine's current one by
    default, whose ``init_weights`` report lists every parameter)."""
    logger = MMLogger.get_current_instance() if name is None \
        else logging.getLogger(name)
    old = logger.level
    logger.setLevel(max(level, old))
    try:
        yield
    finally:
        logger.setLevel(old)


def build_export_model(config: Union[str, Path, Config],
                       checkpoint: Optional[str] = None,
                       cfg_options: Optional[dict] = None,
                       device: str = 'cpu') -> nn.Module:
    """Build a model for export, trained or randomly initialised.

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str, optional): Checkpoint to load. None initialises the
            weights as training starts (``init_weights``) without any
            ``Pretrained`` weights, so nothing is downloaded.
        cfg_options (dict, optional): Config overrides
            (``Config.merge_from_dict``).
        device (str): Device of the model. Defaults to 'cpu'.

    Returns:
        nn.Module: The model in eval mode, with ``model.cfg`` set (from
        :func:`mmdepthseg.apis.model_loader.init_segmentor`).
    """
    from mmdepthseg.apis.model_loader import init_segmentor, load_config

    cfg = load_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    with _quiet_logger():
        return init_segmentor(
            cfg, checkpoint, device=device, init_weights=checkpoint is None)


class DepthSegExportWrapper(nn.Module):
    """``model.predict`` as a tensor-in, tensors-out module for export.

    ``forward`` calls the wrapped model's ``predict`` and returns the
    tensors it passes to ``postprocess_result`` (which is swapped out for
    the call, so nothing is cropped, flipped or resized to an original
    size): ``depth`` ``(B, 1, H, W)`` and ``seg_logits`` ``(B, C, H, W)``
    at the input size, for the tasks the model predicts.

    ``predict`` gets **one** image meta for the whole batch (all images of
    an exported batch share their size, and their camera where a model
    needs it), so no Python object depends on the batch size and the batch
    axis stays dynamic.

    Args:
        model (nn.Module): A segmentor of this package (or any
            ``BaseSegmentor`` whose ``predict`` ends in
            ``postprocess_result(seg_logits, data_samples, depth)``).
        img_meta (dict, optional): Metainfo for ``predict``, e.g.
            ``intrinsics`` (3x3 at the input size) and ``baseline`` for
            SOSD-Net's ``depth_mode='disparity'`` (baked into the graph as
            constants). Defaults to None.
    """

    def __init__(self, model: nn.Module, img_meta: Optional[dict] = None):
        super().__init__()
        self.model = model
        self.img_meta = dict(img_meta or {})

    @contextmanager
    def _captured_outputs(self) -> Iterator[Dict[str, Optional[Tensor]]]:
        """Replace ``model.postprocess_result`` by a recorder for a block.
        """
        captured: Dict[str, Optional[Tensor]] = {}

        def record(seg_logits: Optional[Tensor],
                   data_samples=None,
                   depth: Optional[Tensor] = None) -> list:
            captured.update(depth=depth, seg_logits=seg_logits)
            return []

        self.model.postprocess_result = record
        try:
            yield captured
        finally:
            del self.model.postprocess_result

    def predict_maps(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Run ``model.predict`` and keep its maps at the input size.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` normalised RGB.

        Returns:
            dict[str, Tensor]: ``'depth'`` ``(B, 1, H, W)`` and / or
            ``'seg_logits'`` ``(B, C, H, W)``, in :data:`OUTPUT_NAMES` order.
        """
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError('the exported graph takes one RGB view, '
                             f'(B, 3, H, W); got {tuple(inputs.shape)}')
        with self._captured_outputs() as captured:
            self.model.predict(inputs, [SegDataSample(metainfo=self.img_meta)])
        if not captured:
            raise RuntimeError(
                f'{type(self.model).__name__}.predict did not call '
                'postprocess_result(seg_logits, data_samples, depth): it '
                'cannot be exported with DepthSegExportWrapper')
        maps = {
            name: captured[name]
            for name in OUTPUT_NAMES if captured.get(name) is not None
        }
        if not maps:
            raise RuntimeError(f'{type(self.model).__name__}.predict '
                               'returned neither depth nor seg_logits')
        return maps

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """The maps of :meth:`predict_maps` as a tuple (graph outputs)."""
        return tuple(self.predict_maps(inputs).values())


def _as_wrapper(model: nn.Module,
                img_meta: Optional[dict] = None) -> DepthSegExportWrapper:
    if isinstance(model, DepthSegExportWrapper):
        return model
    return DepthSegExportWrapper(model, img_meta)


def _dims(value_info) -> List[Union[int, str]]:
    """Dimensions of an ONNX graph input / output: ints or symbol names."""
    return [
        d.dim_param if d.dim_param else int(d.dim_value)
        for d in value_info.type.tensor_type.shape.dim
    ]


def _check_graph_dims(model_proto, dynamic_shape: bool) -> None:
    """Fail when the graph fixed a size that was asked to stay dynamic."""
    inputs = {v.name: _dims(v) for v in model_proto.graph.input}
    dims = inputs[INPUT_NAME]
    if isinstance(dims[0], int):
        raise RuntimeError(
            'the exported graph fixed the batch axis to '
            f'{dims[0]}: an operation of the model turns the batch size '
            'into a Python int (e.g. a list the size of the batch)')
    if not dynamic_shape:
        return
    fixed = [] if all(isinstance(d, str)
                      for d in dims[2:]) else [f'{INPUT_NAME} {dims}']
    fixed += [
        f'{v.name} {_dims(v)}' for v in model_proto.graph.output if any(
            isinstance(d, int) for d in _dims(v)[2:])
    ]
    if fixed:
        raise RuntimeError(
            'dynamic H/W was asked for, but the exported graph has fixed '
            f"spatial sizes ({'; '.join(fixed)}): an operation of the model "
            'turns the image size into Python ints (e.g. int() of a size '
            'before a resize). Export with a fixed --shape instead')


def _metadata(model: nn.Module, outputs: Sequence[str], shape: Tuple[int, int],
              dynamic_shape: bool) -> Dict[str, str]:
    """Preprocessing and output description stored in the ONNX file."""
    meta = {
        'producer':
        'mmdepthseg.deployment.onnx_export',
        'model_type':
        type(model).__name__,
        'input': (f'{INPUT_NAME}: float32 (B, 3, H, W) RGB, normalised as '
                  '(x - mean) / std'),
        'outputs':
        json.dumps(list(outputs)),
        'export_shape':
        json.dumps(list(shape)),
        'dynamic_shape':
        json.dumps(bool(dynamic_shape)),
    }
    preprocessor = getattr(model, 'data_preprocessor', None)
    for key in ('mean', 'std'):
        value = getattr(preprocessor, key, None)
        if isinstance(value, Tensor):
            meta[key] = json.dumps(value.flatten().tolist())
    for key in ('bgr_to_rgb', 'size_divisor'):
        if getattr(preprocessor, key, None) is not None:
            meta[key] = json.dumps(getattr(preprocessor, key))
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    if classes:
        meta['classes'] = json.dumps(list(classes))
    return meta


def export_onnx(model: nn.Module,
                output_file: str,
                shape: Tuple[int, int],
                dynamic_shape: bool = False,
                opset_version: int = 18,
                img_meta: Optional[dict] = None) -> Dict[str, list]:
    """Export a model's inference graph to ONNX (dynamic batch axis).

    The file is written atomically (a temporary file then renamed), with
    the weights inside (models up to ONNX's 2 GB limit). The metadata
    (``metadata_props``) records the normalisation (``mean``, ``std``,
    ``bgr_to_rgb``), ``size_divisor``, the outputs and the class names when
    known.

    Args:
        model (nn.Module): The segmentor (eval mode, on the CPU), or a
            :class:`DepthSegExportWrapper`.
        output_file (str): Destination ``.onnx`` file.
        shape (tuple[int, int]): ``(H, W)`` of the traced input; multiples
            of the preprocessor's ``size_divisor``.
        dynamic_shape (bool): Make H and W dynamic too. Defaults to False.
        opset_version (int): ONNX opset. Defaults to 18.
        img_meta (dict, optional): See :class:`DepthSegExportWrapper`.

    Returns:
        dict[str, list]: The graph's inputs and outputs, name -> dimensions
        (ints, or symbol names for dynamic axes).

    Raises:
        ImportError: ``onnx`` / ``onnxscript`` are not installed.
        ValueError: ``shape`` does not fit the model.
        RuntimeError: A size that must stay dynamic was fixed by the model.
    """
    require('onnx', 'onnxscript')
    import onnx

    wrapper = _as_wrapper(model, img_meta).eval()
    segmentor = wrapper.model
    height, width = (int(s) for s in shape)
    divisor = getattr(
        getattr(segmentor, 'data_preprocessor', None), 'size_divisor', None)
    if height <= 0 or width <= 0 or (divisor and
                                     (height % divisor or width % divisor)):
        raise ValueError(
            f'shape (H, W) = {tuple(shape)} must be positive multiples of '
            f"the data preprocessor's size_divisor ({divisor}); the model "
            'sees images padded to such sizes')
    generator = torch.Generator().manual_seed(0)
    example = torch.randn(
        TRACE_BATCH, 3, height, width,
        generator=generator).to(next(segmentor.parameters()).device)
    with torch.no_grad():  # which of depth / seg_logits the model gives
        output_names = list(wrapper.predict_maps(example[:1]))
    axes = {0: torch.export.Dim('batch', min=1)}
    if dynamic_shape:
        axes.update({2: torch.export.Dim.AUTO, 3: torch.export.Dim.AUTO})

    with warnings.catch_warnings(), _quiet_logger(
            'torch.onnx._internal.exporter._registration', logging.ERROR):
        warnings.simplefilter('ignore')
        program = torch.onnx.export(
            wrapper, (example, ),
            None,
            input_names=[INPUT_NAME],
            output_names=output_names,
            opset_version=opset_version,
            dynamic_shapes={'inputs': axes},
            external_data=False,
            dynamo=True,
            verbose=False)
    model_proto = program.model_proto
    _check_graph_dims(model_proto, dynamic_shape)
    for key, value in _metadata(segmentor, output_names, (height, width),
                                dynamic_shape).items():
        entry = model_proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model_proto)
    atomic_write_bytes(str(output_file), model_proto.SerializeToString())
    return {
        v.name: _dims(v)
        for v in list(model_proto.graph.input) + list(model_proto.graph.output)
    }


def verify_onnx(
        onnx_file: str,
        model: nn.Module,
        inputs: Union[Tensor, Sequence[Tensor]],
        img_meta: Optional[dict] = None) -> Dict[str, Dict[str, float]]:
    """Run an exported file with ONNX Runtime (CPU) against PyTorch.

    The relative error of an output is ``max|onnx - torch| / max|torch|``
    over the whole tensor: the largest deviation measured against the
    output's own scale, so that values near zero (logits crossing 0) do not
    inflate it. With several inputs (e.g. other batch sizes or, for a
    dynamic-size graph, other image sizes) the worst errors are returned.

    Args:
        onnx_file (str): The exported model.
        model (nn.Module): The segmentor it was exported from (or its
            :class:`DepthSegExportWrapper`).
        inputs (Tensor | Sequence[Tensor]): ``(B, 3, H, W)`` normalised
            RGB, any batch size; or several such tensors.
        img_meta (dict, optional): As given to :func:`export_onnx`.

    Returns:
        dict[str, dict[str, float]]: Per output name, ``max_abs`` and
        ``max_rel``.

    Raises:
        ImportError: ``onnxruntime`` is not installed.
        ValueError: The outputs' names or shapes differ from PyTorch's.
    """
    require('onnxruntime')
    import onnxruntime as ort

    wrapper = _as_wrapper(model, img_meta).eval()
    session = ort.InferenceSession(
        str(onnx_file), providers=['CPUExecutionProvider'])
    names = [o.name for o in session.get_outputs()]
    errors: Dict[str, Dict[str, float]] = {
        name: dict(max_abs=0., max_rel=0.)
        for name in names
    }
    graph_input = session.get_inputs()[0]
    for x in [inputs] if isinstance(inputs, Tensor) else list(inputs):
        if len(graph_input.shape) != x.dim() or any(
                isinstance(d, int) and d != s
                for d, s in zip(graph_input.shape, x.shape)):
            raise ValueError(
                f'{onnx_file}: the graph takes {graph_input.name} of shape '
                f'{graph_input.shape} (str: dynamic), got {tuple(x.shape)}')
        with torch.no_grad():
            expected = wrapper.predict_maps(x)
        if names != list(expected):
            raise ValueError(f'{onnx_file}: outputs {names}, but the model '
                             f'predicts {list(expected)}')
        feed = {graph_input.name: x.detach().cpu().numpy()}
        for name, actual in zip(names, session.run(names, feed)):
            reference = expected[name].detach().cpu().numpy()
            if actual.shape != reference.shape:
                raise ValueError(
                    f'{onnx_file}: output {name!r} has shape {actual.shape} '
                    f'for input {tuple(x.shape)}, PyTorch gives '
                    f'{reference.shape}')
            diff = np.abs(actual.astype(np.float64) - reference)
            max_abs = float(diff.max()) if diff.size else 0.
            scale = float(np.abs(reference).max()) if reference.size else 0.
            errors[name]['max_abs'] = max(errors[name]['max_abs'], max_abs)
            errors[name]['max_rel'] = max(errors[name]['max_rel'],
                                          max_abs / max(scale, 1e-12))
    return errors


def load_image_input(model: nn.Module, img_path: str,
                     shape: Tuple[int, int]) -> Tensor:
    """An image file as the graph's input, through the model's preprocessor.

    Args:
        model (nn.Module): The segmentor (its ``data_preprocessor`` converts
            BGR to RGB and normalises).
        img_path (str): Image file.
        shape (tuple[int, int]): ``(H, W)`` the image is resized to
            (bilinear).

    Returns:
        Tensor: ``(1, 3, H, W)`` float32.
    """
    import cv2
    import mmcv

    img = mmcv.imread(img_path)  # BGR uint8, as the datasets load images
    if img is None:
        raise FileNotFoundError(f'cannot read image {img_path}')
    img = cv2.resize(
        img, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR)
    tensor = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
    with torch.no_grad():
        return model.data_preprocessor(dict(inputs=[tensor]),
                                       False)['inputs'].float()
