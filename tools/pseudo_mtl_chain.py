# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Run Pseudo-MTL's two-stage recipe (Sec. 4.2) for one stage-2 config.

For a stage-2 config (the method or an ablation of Tables 4 and 5) the
chain trains

1. the depth network ``E + D_d``: the config's model without the
   segmentation head (its ``depth_loss``, ``use_confidence`` and
   ``depth_cv_loss`` as they are), with the stage-1 schedule (30 epochs,
   Adam 1e-4);
2. the segmentation network ``E + D_s``: the model without the depth head
   (its ``seg_loss`` and ``seg_cv_loss``; a ``seg_cv_loss`` warped with the
   PREDICTED depth, ``b = d_i``, has no depth to warp with in a
   segmentation-only network, so that stage trains ``L_s`` alone);
3. merges the encoder and depth decoder of (1) with the segmentation
   decoder of (2) (``mmdepthseg.utils.checkpoint_merge``, checked to load
   into the stage-2 model) into the config's ``load_from``;
4. fine-tunes the stage-2 config from it.

So every ablation starts stage 2 from stage-1 networks trained with the
same components switched off, instead of from the method's. Each stage
works in its own folder of ``--work-dir`` (default ``work_dirs/<config
name>``: ``stage1-depth/``, ``stage1-seg/``, then stage 2 in the folder
itself) and leaves ``chain_done.json`` there when it finished; a second
run skips finished stages (resumable). The derived stage-1 configs are
dumped next to their runs, so a stage can also be run (or distributed) by
hand with ``tools/train.py``::

    python tools/pseudo_mtl_chain.py \\
        configs/pseudo_mtl/pseudo_mtl_vgg16_kitti_ablation-baseline.py
    python tools/pseudo_mtl_chain.py CONFIG --dry-run   # configs + plan
"""
import argparse
import copy
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config, ConfigDict, DictAction

from mmdepthseg.utils.io import atomic_write_text

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: The stage-1 schedule of the paper (30 epochs, Adam 1e-4).
STAGE1_SCHEDULE = osp.join(REPO_ROOT, 'configs', '_base_', 'schedules',
                           'schedule_pseudo_mtl_stage1_30e.py')
#: Schedule keys a stage-1 schedule file replaces.
SCHEDULE_KEYS = ('optim_wrapper', 'param_scheduler', 'train_cfg')
STAGES = ('stage1-depth', 'stage1-seg', 'merge', 'stage2')
DONE = 'chain_done.json'


def derive_stage1(cfg: Config,
                  task: str,
                  schedule: Optional[Config] = None) -> Config:
    """The stage-1 config of ``task`` ('depth' or 'seg') for a stage-2
    config (see the module docstring for the rules).

    Args:
        cfg (Config): Stage-2 config (``model.type='PseudoMTL'``).
        task (str): 'depth' (``E + D_d``) or 'seg' (``E + D_s``).
        schedule (Config, optional): A schedule config whose
            ``optim_wrapper``, ``param_scheduler`` and ``train_cfg`` replace
            the stage-2 ones; None keeps the config's schedule.

    Returns:
        Config: A new config (``load_from`` None, ``resume`` False).
    """
    if task not in ('depth', 'seg'):
        raise ValueError(f"task must be 'depth' or 'seg', got {task!r}")
    if cfg.model.get('type') != 'PseudoMTL':
        raise ValueError('the chain trains PseudoMTL configs, got model '
                         f'type {cfg.model.get("type")!r}')
    out = Config(copy.deepcopy(cfg._cfg_dict.to_dict()), filename=None)
    model = out.model
    if task == 'depth':
        model.seg_head = None
    else:
        model.depth_head = None
        seg_cv = model.get('seg_cv_loss')
        if seg_cv and seg_cv.get('warp_with', 'pseudo') == 'pred':
            model.seg_cv_loss = None
        # a segmentation-only network predicts no depth
        if out.get('val_evaluator') and \
                out.val_evaluator.get('type') == 'DepthMetric':
            out.val_cfg = out.val_dataloader = out.val_evaluator = None
            if out.get('train_cfg') is not None:
                out.train_cfg.pop('val_interval', None)
    if schedule is not None:
        for key in SCHEDULE_KEYS:
            if key in schedule:
                out[key] = copy.deepcopy(schedule[key])
        if out.get('val_cfg') is None and out.get('train_cfg'):
            out.train_cfg.pop('val_interval', None)
    out.load_from = None
    out.resume = False
    return out


def plan(cfg: Config,
         work_dir: str,
         schedule: Optional[Config] = None,
         stage1_options: Optional[dict] = None) -> Dict[str, dict]:
    """The configs and folders of the four steps.

    Returns:
        dict: ``stage1-depth`` / ``stage1-seg`` / ``stage2`` -> ``dict(cfg,
        work_dir)``, ``merge`` -> ``dict(out, sources)``.
    """
    steps = {}
    for task in ('depth', 'seg'):
        sub = derive_stage1(cfg, task, schedule)
        if stage1_options:
            sub.merge_from_dict(stage1_options)
        sub.work_dir = osp.join(work_dir, f'stage1-{task}')
        sub.experiment_name = f'{_name(cfg, work_dir)}_stage1-{task}'
        steps[f'stage1-{task}'] = dict(cfg=sub, work_dir=sub.work_dir)
    merged = cfg.get('load_from') or osp.join(work_dir, 'stage1-merged.pth')
    steps['merge'] = dict(
        out=merged,
        sources=[('stage1-depth', ['backbone', 'depth_head']),
                 ('stage1-seg', ['seg_head'])])
    stage2 = Config(copy.deepcopy(cfg._cfg_dict.to_dict()), filename=None)
    stage2.load_from = merged
    stage2.resume = False
    stage2.work_dir = work_dir
    stage2.experiment_name = f'{_name(cfg, work_dir)}_stage2'
    steps['stage2'] = dict(cfg=stage2, work_dir=work_dir)
    return steps


def _name(cfg: Config, work_dir: str) -> str:
    if cfg.filename:
        return osp.splitext(osp.basename(cfg.filename))[0]
    return osp.basename(osp.normpath(work_dir))


def _done(work_dir: str) -> Optional[dict]:
    path = osp.join(work_dir, DONE)
    if not osp.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _train(cfg: Config) -> str:
    """Train ``cfg`` in this process; returns its last checkpoint."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    pointer = osp.join(cfg.work_dir, 'last_checkpoint')
    if not osp.exists(pointer):
        raise RuntimeError(f'{cfg.work_dir}: training saved no checkpoint '
                           '(default_hooks.checkpoint must save the last)')
    with open(pointer) as f:
        return f.read().strip()


def run_chain(cfg: Config,
              work_dir: str,
              schedule: Optional[Config] = None,
              stage1_options: Optional[dict] = None,
              stages: Sequence[str] = STAGES,
              dry_run: bool = False) -> Dict[str, str]:
    """Run (or, with ``dry_run``, only write the configs of) the chain.

    Returns:
        dict[str, str]: Step -> its checkpoint (or planned output).
    """
    from mmengine.registry import init_default_scope

    from mmdepthseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdepthseg')
    steps = plan(cfg, work_dir, schedule, stage1_options)
    results = {}
    for name in ('stage1-depth', 'stage1-seg'):
        step = steps[name]
        os.makedirs(step['work_dir'], exist_ok=True)
        step['cfg'].dump(osp.join(step['work_dir'], f'{name}.py'))
    steps['stage2']['cfg'].dump(osp.join(work_dir, 'stage2.py'))
    if dry_run:
        for name, step in steps.items():
            results[name] = step.get('out') or step['work_dir']
        return results
    for name in STAGES:
        step = steps[name]
        if name == 'merge':
            results[name] = _merge(cfg, step, results, 'merge' in stages)
            continue
        done = _done(step['work_dir'])
        if done is not None:
            print(f'[chain] {name}: done before ({done["checkpoint"]})')
            results[name] = done['checkpoint']
            continue
        if name not in stages:
            raise RuntimeError(f'{name} has not run yet ({step["work_dir"]} '
                               f'has no {DONE}); it is needed')
        print(f'[chain] {name}: training in {step["work_dir"]}')
        ckpt = _train(step['cfg'])
        atomic_write_text(
            osp.join(step['work_dir'], DONE),
            json.dumps(dict(checkpoint=ckpt, stage=name)))
        results[name] = ckpt
    return results


def _merge(cfg: Config, step: dict, results: dict, allowed: bool) -> str:
    from mmdepthseg.registry import MODELS
    from mmdepthseg.utils.checkpoint_merge import merge_checkpoints
    out = step['out']
    stamp = out + '.chain.json'
    sources = [(results[s], list(prefixes))
               for s, prefixes in step['sources']]
    if osp.exists(out) and osp.exists(stamp):
        with open(stamp) as f:
            if json.load(f).get('sources') == [s for s, _ in sources]:
                print(f'[chain] merge: done before ({out})')
                return out
    if not allowed:
        raise RuntimeError(f'merge has not run yet ({out}); it is needed')
    print(f'[chain] merge: {sources} -> {out}')
    merge_checkpoints(sources, out, model=MODELS.build(cfg.model))
    atomic_write_text(stamp, json.dumps(dict(sources=[s for s, _ in sources])))
    return out


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Pseudo-MTL stage 1 (depth, segmentation), merge and '
        'stage 2 for one stage-2 config.')
    parser.add_argument('config', help='stage-2 config (method or ablation)')
    parser.add_argument(
        '--work-dir', help='default: work_dirs/<config name>')
    parser.add_argument(
        '--stage1-schedule',
        default=STAGE1_SCHEDULE,
        help='schedule file of stage 1 ("none": keep the config\'s)')
    parser.add_argument(
        '--stages',
        nargs='+',
        choices=STAGES,
        default=list(STAGES),
        help='steps allowed to run (finished ones are always reused)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides of the stage-2 config (and so of both stage-1 '
        'configs)')
    parser.add_argument(
        '--stage1-cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides of the two stage-1 configs only')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='write the derived configs and print the plan')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, str]:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    schedule = None
    if args.stage1_schedule and args.stage1_schedule.lower() != 'none':
        schedule = Config.fromfile(args.stage1_schedule)
    results = run_chain(
        cfg,
        work_dir,
        schedule,
        stage1_options=args.stage1_cfg_options,
        stages=args.stages,
        dry_run=args.dry_run)
    for name, value in results.items():
        print(f'[chain] {name}: {value}')
    return results


def stage1_models(cfg: Config) -> List[ConfigDict]:
    """The model configs of the two stage-1 networks (for inspection)."""
    return [derive_stage1(cfg, t).model for t in ('depth', 'seg')]


if __name__ == '__main__':
    main()
