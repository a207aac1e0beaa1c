# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Speed, FLOPs, utilisation, memory and loader throughput of a config.

Offline tooling behind ``tools/analysis_tools/benchmark.py``,
``benchmark_all.py`` and ``get_flops.py``. It sits above the library
layers (it imports datasets, models and evaluation), and nothing in them
imports it. One module per concern:

- :mod:`.synthetic`: a config's batch layout and synthetic batches;
- :mod:`.memory`: the peak memory meter; :mod:`.timing`: wall times;
- :mod:`.flops`: FLOP counting; :mod:`.matmul_peak`: the device's peak
  and the utilisation;
- :mod:`.amp`: mixed precision and the optimizer wrappers;
- :mod:`.steps`: the train / inference steps and :func:`benchmark`;
- :mod:`.hardware`: what the numbers were measured on;
- :mod:`.loader`: the training dataloader's throughput;
- :mod:`.evaluation`: the time of the depth evaluation;
- :mod:`.run`: :func:`run_benchmark`, everything of one config;
- :mod:`.report`: console and Markdown tables, the JSON dump.

The model part needs no dataset: it synthesises a batch that has every
field of the data contract (``docs/en/data_contract.md``) the config's
training set produces (the number of views, per-view pseudo labels of
stereo configs, the ``domain`` / ``labelled_tasks`` of multi-source
SemiMTL batches; see :func:`batch_layout`) and runs it through the model's
own data preprocessor, exactly as the runner does:

- **train**: ``model.train_step(batch, optim_wrapper)``, i.e. preprocessing,
  forward in ``'loss'`` mode, backward and the optimizer step (the wrapper is
  built from ``cfg.optim_wrapper``; learning-rate schedulers are not run),
  followed by ``model.discriminator_step`` where the config trains
  discriminators with ``DiscriminatorStepHook`` (SemiMTL);
- **infer**: ``model.test_step(batch)`` (preprocessing + ``predict``) in eval
  mode under ``torch.no_grad()``.

Measured per mode (:func:`benchmark`):

- wall time (``time.perf_counter``, ``torch.cuda.synchronize`` on a GPU)
  over ``repeat`` runs after ``warmup`` runs; copying the synthetic batch
  (the preprocessor modifies samples in place) is not timed;
- peak memory growth over the memory in use before the mode
  (:class:`PeakMemoryMeter`);
- FLOPs of one step, counted by ``torch.utils.flop_counter.FlopCounterMode``
  in a separate, untimed run (:func:`count_flops`): **2 FLOPs per
  multiply-add**, forward and backward of every matmul / convolution
  (element-wise work, the optimizer included, counts 0), with a
  per-module breakdown.

:func:`run_benchmark` adds the device's own limit, the fp32 matmul
throughput measured in the same run (:func:`measure_matmul_peak`), the
**utilisation** = achieved FLOP/s / that peak (:func:`utilisation`), the
``amp`` (``torch.autocast``: bfloat16 on the CPU, float16 with loss
scaling on CUDA) and ``channels_last`` settings, and the throughput of the
config's own training dataloader (:func:`measure_loader`) next to what the
training step consumes, and the time of the config's depth evaluation over
a test set of synthetic predictions
(:func:`~mmdepthseg.benchmark.evaluation.measure_depth_evaluation`).
"""
from .amp import (AutocastOptimWrapper, amp_dtype, amp_support,
                  build_optim_wrapper_or_adam, optimizer_names)
from .evaluation import (EIGEN_TEST_FRAMES, EVAL_GT_LAYOUTS, depth_metric_cfgs,
                         eval_gt_layout, format_evaluation, make_eval_samples,
                         measure_depth_evaluation)
from .flops import BACKWARD, count_flops, top_modules
from .hardware import cpu_model_name, device_name, hardware_info
from .loader import measure_loader, train_loader_cfg
from .matmul_peak import PEAK_MATMUL_SIZE, measure_matmul_peak, utilisation
from .memory import PeakMemoryMeter
from .report import (config_name, dump_json_atomic, format_loader,
                     format_markdown, format_table)
from .run import SETTINGS, BenchmarkOptions, run_benchmark
from .steps import (MODES, benchmark, make_infer_step, make_train_step,
                    trains_discriminators)
from .synthetic import (KITTI_BASELINE, batch_layout, infer_view_names,
                        make_synthetic_batch, split_batch,
                        view_names_from_frame_ids)
from .timing import summarise_times, time_step

__all__ = [
    'AutocastOptimWrapper', 'amp_dtype', 'amp_support',
    'build_optim_wrapper_or_adam', 'optimizer_names', 'EIGEN_TEST_FRAMES',
    'EVAL_GT_LAYOUTS', 'depth_metric_cfgs', 'eval_gt_layout',
    'format_evaluation', 'make_eval_samples', 'measure_depth_evaluation',
    'BACKWARD', 'count_flops', 'top_modules', 'cpu_model_name', 'device_name',
    'hardware_info', 'measure_loader', 'train_loader_cfg', 'PEAK_MATMUL_SIZE',
    'measure_matmul_peak', 'utilisation', 'PeakMemoryMeter', 'config_name',
    'dump_json_atomic', 'format_loader', 'format_markdown', 'format_table',
    'SETTINGS', 'BenchmarkOptions', 'run_benchmark', 'MODES', 'benchmark',
    'make_infer_step', 'make_train_step', 'trains_discriminators',
    'KITTI_BASELINE', 'batch_layout', 'infer_view_names',
    'make_synthetic_batch', 'split_batch', 'view_names_from_frame_ids',
    'summarise_times', 'time_step'
]
