# Copyright (c) mmdepthseg contributors. All rights reserved.
"""A short console for the tools; the full story stays in the log file.

MMEngine's Runner prints the environment, the whole config (hundreds of
lines) and the hook order (85 lines) before the first useful line, plus
deprecation notices of MMEngine's own internals. :func:`build_runner` gives
a Runner whose console handler leaves those records to the log file
(``work_dir/<timestamp>/<timestamp>.log`` gets everything) and says once
where they are; ``verbose=True`` restores MMEngine's console.
:class:`ProgressBarHook` draws a progress bar over the test images.
"""
import logging
import re
import sys
import warnings
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.utils import ProgressBar

#: Console records (regular expressions matched at the start of the
#: message) that go to the log file only.
FILE_ONLY_RECORDS = (
    r'\n-+\nSystem environment:',
    r'Config:\n',
    r'Hooks will be executed in the following order',
    # MMEngine's own internals, not something a user can change:
    r'"FileClient" will be deprecated',
    r'"HardDiskBackend" is the alias of "LocalBackend"',
    r'Distributed training is not used, all SyncBatchNorm',
)
#: Python warnings raised by MMSegmentation / MMEngine internals on every
#: run of our configs (message regexes); hidden unless verbose.
QUIET_WARNINGS = (
    r'``build_loss`` would be deprecated soon',
    r'The draw is False, it means that the hook for visualization',
)


class FileOnlyFilter(logging.Filter):
    """Drop the records of :data:`FILE_ONLY_RECORDS` (for a console
    handler)."""

    def __init__(self, patterns: Sequence[str] = FILE_ONLY_RECORDS) -> None:
        super().__init__()
        self.pattern = re.compile('|'.join(f'(?:{p})' for p in patterns))

    def add(self, patterns: Sequence[str]) -> None:
        """Drop the records matching ``patterns`` too."""
        self.pattern = re.compile('|'.join(
            [self.pattern.pattern] + [f'(?:{p})' for p in patterns]))

    def filter(self, record: logging.LogRecord) -> bool:
        return self.pattern.match(record.getMessage()) is None


#: The per-iteration test log lines (the progress bar replaces them on the
#: console); the final line with the metrics has no ``eta``.
TEST_ITER_RECORDS = (r'(Iter|Epoch)\(test\) *\[ *\d+/\d+\] +eta:', )


def file_only(runner: Runner, patterns: Sequence[str]) -> None:
    """Leave the records matching ``patterns`` to the log file (a runner
    built by :func:`build_runner` without ``verbose``; others unchanged).
    """
    for handler in _console_handlers(runner.logger):
        for filt in handler.filters:
            if isinstance(filt, FileOnlyFilter):
                filt.add(patterns)


def quiet_warnings() -> None:
    """Hide :data:`QUIET_WARNINGS` in this process."""
    for message in QUIET_WARNINGS:
        warnings.filterwarnings('ignore', message=message)


def _console_handlers(logger: logging.Logger):
    return [
        h for h in logger.handlers if isinstance(h, logging.StreamHandler)
        and not isinstance(h, logging.FileHandler)
    ]


class QuietRunnerMixin:
    """Puts :class:`FileOnlyFilter` on a Runner's console.

    After construction the runner logs one line naming the log file that
    holds the environment, the config and the hook order. Mixed into
    MMEngine's ``Runner`` (:class:`QuietRunner`) or into the runner class a
    config names by ``runner_type`` (see :func:`build_runner`).
    """

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        for handler in _console_handlers(logger):
            if not any(
                    isinstance(f, FileOnlyFilter) for f in handler.filters):
                handler.addFilter(FileOnlyFilter())
        return logger

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        log_file = next((h.baseFilename for h in self.logger.handlers
                         if isinstance(h, logging.FileHandler)), None)
        if log_file:
            model = type(getattr(self.model, 'module', self.model)).__name__
            self.logger.info(
                f'{model} from {self.cfg.filename or "a config"}; '
                f'environment, full config and hook order in {log_file} '
                '(--verbose shows them here)')


class QuietRunner(QuietRunnerMixin, Runner):
    """MMEngine's Runner with a short console (:class:`QuietRunnerMixin`)."""


def build_runner(cfg: Config, verbose: bool = False) -> Runner:
    """``Runner.from_cfg`` (or ``RUNNERS.build`` for a config naming a
    ``runner_type``) with a short console unless ``verbose``.

    Args:
        cfg (Config): The merged config.
        verbose (bool): MMEngine's full console output. Defaults to False.

    Returns:
        Runner: The runner.
    """
    runner_cls = Runner
    if cfg.get('runner_type'):
        from mmdepthseg.registry import RUNNERS
        runner_cls = RUNNERS.get(cfg.runner_type)
        if runner_cls is None:
            raise KeyError(f'runner_type {cfg.runner_type!r} is not a '
                           'registered runner')
    if verbose:
        return runner_cls.from_cfg(cfg)
    quiet_warnings()
    if runner_cls is Runner:
        return QuietRunner.from_cfg(cfg)
    quiet_cls = type(f'Quiet{runner_cls.__name__}',
                     (QuietRunnerMixin, runner_cls), {})
    return quiet_cls.from_cfg(cfg)


class ProgressBarHook(Hook):
    """A progress bar over the test (or validation) batches of the main
    process, written to ``file`` (standard error by default, so that the
    log lines on standard output stay one per line).

    Args:
        modes (Sequence[str]): ``'test'`` and / or ``'val'``. Defaults to
            ``('test', )``.
        file: Stream of the bar. Defaults to ``sys.stderr``.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 modes: Sequence[str] = ('test', ),
                 file: Optional[object] = None) -> None:
        self.modes = tuple(modes)
        self.file = file
        self._bar: Optional[ProgressBar] = None

    def _start(self, runner, mode: str) -> None:
        if mode not in self.modes or not is_main_process():
            return
        loader = getattr(runner, f'{mode}_dataloader')
        self._bar = ProgressBar(len(loader), file=self.file or sys.stderr)

    def _step(self, outputs) -> None:
        if self._bar is not None:
            self._bar.update()
            if self._bar.completed >= self._bar.task_num:
                # end the line before the evaluation prints its tables
                self._end()

    def _end(self) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar.file.flush()
            self._bar = None

    def before_test_epoch(self, runner) -> None:
        self._start(runner, 'test')

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._step(outputs)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._end()

    def before_val_epoch(self, runner) -> None:
        self._start(runner, 'val')

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._step(outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._end()
