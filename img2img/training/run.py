"""`img2img train`: config -> data module + model -> Lightning Trainer -> checkpoints."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import pytorch_lightning as pl
import yaml
from pytorch_lightning.callbacks import LearningRateMonitor
from lightning_fabric.utilities.exceptions import MisconfigurationException
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

from img2img.config.schema import TrainConfig
from img2img.data.select import build_datamodule
from img2img.errors import UserError, first_line
from img2img.io.atomic import atomic_path
from img2img.models.registry import build_model
from img2img.training.checkpoints import AtomicCheckpointIO, checkpoint_callbacks, last_checkpoint, remove_leftovers
from img2img.training.finetune import fine_tune
from img2img.training.interruption import Interruption
from img2img.training.model_card import ModelCardRecorder
from img2img.training.progress import RunProgressBar
from img2img.training.random_state import RandomState
from img2img.training.resume_check import check_resume, check_resumed_data
from img2img.training.step_limit import StepLimit
from img2img.training.speed import SpeedSwitches, flush_denormals, on_gpu, resolve_speed
from img2img.training.strategy import GanDDPStrategy
from img2img.training.throughput import Throughput
from img2img.training.train_log import TrainLog



def train(
    config: TrainConfig, resume: str | Path | None = None, progress: bool = True,
    callbacks: list[pl.Callback] | None = None,
) -> Path:
    """Train and return the path of the best checkpoint (by `config.best_metric`).

    `callbacks` are extra Lightning callbacks: the napari plugin uses them to plot the loss
    live and to stop training on a button press. `progress`: a bar over the whole run in a
    terminal, plain lines where stdout is a file, and the summary; False prints nothing (the
    plugin). OUTPUT_DIR/train.log gets the same lines either way.

    SIGINT (Ctrl-C) or SIGTERM (a time limit) stops training after the current step; last.ckpt is
    saved and `TrainingInterrupted` raised (interruption.py)."""
    with flush_denormals():
        return _train(config, resume, progress, callbacks)


def _train(config: TrainConfig, resume: str | Path | None, progress: bool, callbacks: list[pl.Callback] | None) -> Path:
    out = Path(config.output_dir)
    if resume is not None:
        resumed = check_resume(Path(resume), config)
    elif any((out / "checkpoints").glob("*.ckpt")):
        raise UserError(
            f"{out}: holds checkpoints of an earlier run; set another output_dir, or continue it with "
            f"--resume {out / 'checkpoints' / 'last.ckpt'}"
        )
    tuning = None
    if resume is None and config.init_from is not None:  # a resumed run holds its weights already
        config, tuning = fine_tune(config)  # the checkpoint's network sections in the user's config
    in_terminal = progress and sys.stdout.isatty()
    log = TrainLog(out / "train.log", config, echo="validation" if in_terminal else "all" if progress else "none")
    pl.seed_everything(config.seed, workers=True, verbose=False)
    _quiet_lightning()
    # best.ckpt follows validation F1 (segmentation), PSNR (translation) or the cycle L1 (CycleGAN):
    # `config.best_metric` and `best_mode`. last.ckpt is rewritten at every validation (so a killed
    # run can be resumed), when a signal stops the run, and at the end (checkpoints.py).
    checkpoints, last_checkpoints = checkpoint_callbacks(config)
    last = last_checkpoint(config)
    if resume is not None:
        remove_leftovers(last.parent)
    interruption = Interruption(last)
    datamodule = build_datamodule(config, progress=progress)
    # Data modules whose samplers split every epoch over the ranks themselves (data/sampling.py)
    # keep them; others get Lightning's DistributedSampler.
    own_split = getattr(datamodule, "splits_over_ranks", False)
    card = ModelCardRecorder(config, datamodule)  # training facts into every checkpoint (img2img info)
    trainer = _build_trainer(config, [card, checkpoints, last_checkpoints, interruption, log, *(callbacks or [])], in_terminal,
                             distributed_sampler=not own_split)
    model = build_model(
        config, datamodule.in_channels, datamodule.out_channels, datamodule.input_dtype, datamodule.target_dtype
    )
    if resume is not None:
        check_resumed_data(Path(resume), resumed, datamodule.in_channels, datamodule.out_channels)
    if tuning is not None:
        tuning.check_data(config, datamodule.in_channels, datamodule.out_channels)
        loaded = tuning.load_weights(model)
        if trainer.is_global_zero:
            log.write(tuning.summary(loaded))
        del tuning  # the source model is no longer needed
    with atomic_path(out / "config.yaml") as tmp:
        tmp.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    trainer.fit(model, datamodule=datamodule, ckpt_path=resume)
    trainer.save_checkpoint(last, weights_only=False)  # the full state, so --resume continues exactly
    best = Path(checkpoints.best_model_path or last)
    stopped = interruption.interrupted(trainer, model.training_steps_done, config.schedule.steps)
    if (trainer.is_global_zero and stopped is None and config.task == "segmentation"
            and config.segmentation.fit_decoding):
        log.write(_fit_decoding(best, datamodule))
    if trainer.is_global_zero:
        for line in log.summary(best, last):
            log.write(line)
        if stopped is not None:
            log.write(f"{stopped}; last.ckpt saved", echo=False)
    if stopped is not None:
        raise stopped  # the CLI prints it with the command that resumes the run
    return best


def _fit_decoding(best: Path, datamodule) -> str:
    """segmentation.fit_decoding: choose the decoding settings on the validation images and store
    them in best.ckpt; returns a line for the log."""
    if not getattr(datamodule, "whole_image_validation", False):
        return "fit_decoding skipped: validation uses pieces of the training images, not images of its own"
    from img2img.evaluation.decoding_fit import fit_decoding, store_decoding
    from img2img.inference.predictor import Predictor

    decoding, record = fit_decoding(Predictor.from_checkpoint(best), datamodule.val_files, progress=False)
    store_decoding(best, decoding)
    settings = ", ".join(f"{k} {v}" for k, v in decoding.model_dump().items())
    return (f"decoding chosen on {record['images']} validation images and stored in {best.name}: {settings} "
            f"(F1 {record['f1']:.3f}, DSB score {record['dsb_score']:.3f})")


def _build_trainer(config: TrainConfig, callbacks: list[pl.Callback], progress: bool,
                   distributed_sampler: bool = True) -> pl.Trainer:
    """The Lightning Trainer; bad accelerator/device/precision settings become one-line errors."""
    out = Path(config.output_dir)
    t = config.trainer
    speed = resolve_speed(t)
    if t.sync_batchnorm and not on_gpu(t):
        raise UserError("trainer.sync_batchnorm: PyTorch's SyncBatchNorm runs on GPUs only; remove it for CPU training")
    try:
        return pl.Trainer(
            default_root_dir=out,
            max_steps=-1,  # StepLimit counts batches; Lightning's max_steps counts optimizer steps
            max_epochs=-1,
            val_check_interval=min(t.val_every_steps, config.schedule.steps),
            check_val_every_n_epoch=None,
            log_every_n_steps=t.log_every_steps,
            accelerator=t.accelerator,
            devices=t.devices,
            num_nodes=t.num_nodes,
            strategy=_strategy(t),
            sync_batchnorm=t.sync_batchnorm,
            use_distributed_sampler=distributed_sampler,
            precision=speed.precision,
            plugins=[AtomicCheckpointIO()],
            # A new logs/version_N per run, so resuming never deletes the earlier metrics.csv.
            logger=[CSVLogger(out, name="logs"), TensorBoardLogger(out, name="tensorboard", version="")],
            callbacks=[*callbacks, StepLimit(config.schedule.steps, t.val_every_steps), LearningRateMonitor("step"),
                       RandomState(), SpeedSwitches(speed), Throughput()]
            + ([RunProgressBar(config.schedule.steps, config.best_metric)] if progress else []),
            enable_progress_bar=progress,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
    except (MisconfigurationException, ValueError, RuntimeError, ImportError) as exc:
        raise UserError(
            f"trainer settings (accelerator={t.accelerator!r}, devices={t.devices!r}, num_nodes={t.num_nodes}, "
            f"strategy={t.strategy!r}, precision={speed.precision!r}) do not work on this machine: {first_line(exc, limit=None)}"
        ) from None


def _strategy(t) -> str | pl.strategies.Strategy:
    """DDP (ours, see strategy.py) whenever more than one process trains; other names go to Lightning."""
    single = str(t.devices) == "1" and t.num_nodes == 1
    if t.strategy == "auto":
        return "auto" if single else GanDDPStrategy()
    if t.strategy == "ddp":
        return GanDDPStrategy()
    if t.strategy.startswith("ddp"):  # Lightning's variants wrap the module, which our GAN steps do not allow
        raise UserError(f"trainer.strategy {t.strategy}: use ddp (img2img's DDP for GANs, one process per device) or auto")
    return t.strategy


def _quiet_lightning() -> None:
    """Hide Lightning's tips that are noise for our users (worker counts, GPU availability)."""
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*LeafSpec.*")
    # Our samplers resume inside an epoch by themselves (data/sampling.py), without Lightning's interface.
    warnings.filterwarnings("ignore", ".*dataloader is not resumable.*")
    # train() refuses a folder with checkpoints unless resuming, where they are expected.
    warnings.filterwarnings("ignore", ".*Checkpoint directory .* exists and is not empty.*")
    for name in ("pytorch_lightning.utilities.rank_zero", "pytorch_lightning.accelerators.cuda", "lightning.pytorch"):
        logging.getLogger(name).setLevel(logging.WARNING)
