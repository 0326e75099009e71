"""The training configuration: one typed, validated tree per YAML file.

Every section forbids unknown keys, so a typo is an error that names the key instead of a
setting silently ignored. Each model has its own config class (selected by `model.name`),
rather than one global bag of options that every model reads; it is declared with its kind
(img2img/kinds/) and what the kind needs of the rest of the config is checked here from the
registry, not by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from img2img.config.sections import (  # noqa: F401  (the shared sections, importable from here as before)
    GENERATOR_CONFIGS, CycleGANDiscriminatorConfig, DegradationConfig, DiscriminatorConfig,
    GatedConfig, GeneratorConfig, MaskConfig, ResNetConfig, RRDBConfig, Section, SRGeneratorConfig, SRResNetConfig,
    UNetConfig,
)
from img2img.io.channels import InputChannels
from img2img.io.normalization import Normalization
from img2img.kinds import KINDS, find_kind



class DataConfig(Section):
    """Paired data (Pix2Pix): inputs and targets matched by file name."""

    kind: Literal["paired"] = "paired"
    input_dir: Path = Field(description="folder of input images")
    target_dir: Path = Field(description="folder of targets, matched to inputs by file name (without suffix)")
    pattern: str = Field("*", description="glob for files in both folders")
    val_fraction: float = Field(
        0.1, ge=0.0, lt=1.0,
        description="share of whole pairs held out for validation; 0 (or a single pair): one corner piece of each "
                    "image is held back instead, and the rest of it trains")
    val_input_dir: Path | None = Field(None, description="explicit validation inputs (instead of val_fraction)")
    val_target_dir: Path | None = None
    patch_size: int = Field(256, ge=16, description="square training crops, pixels")
    batch_size: int = Field(4, ge=1)
    patches_per_image: int = Field(8, ge=1, description="random crops drawn from each image per epoch")
    foreground_crops: float = Field(
        0.5, ge=0.0, le=1.0, description="share of crops centred on a random object pixel (small objects need it)"
    )
    num_workers: int = Field(2, ge=0, description="data-loading processes")

    @model_validator(mode="after")
    def _val_dirs_together(self) -> "DataConfig":
        if (self.val_input_dir is None) != (self.val_target_dir is None):
            raise ValueError("give both val_input_dir and val_target_dir, or neither")
        return self


class UnpairedDataConfig(Section):
    """Two unmatched folders (CycleGAN), each sampled on its own so neither loses images."""

    kind: Literal["unpaired"] = "unpaired"
    a_dir: Path = Field(description="folder of domain A images (e.g. simulated frames)")
    b_dir: Path = Field(description="folder of domain B images (e.g. real recordings)")
    pattern: str = Field("*", description="glob for files in both folders")
    val_a_dir: Path | None = Field(None, description="explicit validation images of A (default: some training images)")
    val_b_dir: Path | None = None
    val_images: int = Field(4, ge=1, description="whole images per domain validated when no val folders are given")
    patch_size: int = Field(256, ge=16, description="square training crops, pixels")
    batch_size: int = Field(1, ge=1, description="reference CycleGAN: 1")
    patches_per_image: int = Field(1, ge=1, description="crops per image of the larger folder per epoch")
    num_workers: int = Field(2, ge=0, description="data-loading processes")

    @model_validator(mode="after")
    def _val_dirs_together(self) -> "UnpairedDataConfig":
        if (self.val_a_dir is None) != (self.val_b_dir is None):
            raise ValueError("give both val_a_dir and val_b_dir, or neither")
        return self


class SingleFolderDataConfig(Section):
    """One folder of clean images (super-resolution, inpainting, colorization): the model's
    input is made from each training crop on the fly (downscaled, masked, turned gray)."""

    kind: Literal["single"] = "single"
    image_dir: Path = Field(description="folder of clean (high-resolution, complete, colour) images")
    pattern: str = Field("*", description="glob for files in the folder")
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="share of images held out for validation")
    val_image_dir: Path | None = Field(None, description="explicit validation images (instead of val_fraction)")
    patch_size: int = Field(128, ge=16, description="square training crops of the clean image, pixels")
    batch_size: int = Field(8, ge=1)
    patches_per_image: int = Field(8, ge=1, description="random crops drawn from each image per epoch")
    num_workers: int = Field(2, ge=0, description="data-loading processes")


AnyDataConfig = Annotated[Union[DataConfig, UnpairedDataConfig, SingleFolderDataConfig], Field(discriminator="kind")]
DATA_CONFIGS: dict[str, type[Section]] = {"paired": DataConfig, "unpaired": UnpairedDataConfig, "single": SingleFolderDataConfig}


class AugmentationConfig(Section):
    """Random changes applied identically to input and target (albumentations)."""

    flip: bool = True
    rotate90: bool = True
    brightness_contrast: float = Field(0.1, ge=0.0, le=1.0, description="max relative change; 0 disables")
    gamma: float = Field(0.2, ge=0.0, le=1.0, description="max gamma change; 0 disables")
    blur: float = Field(0.1, ge=0.0, le=1.0, description="probability of a slight blur on the input")
    noise: float = Field(0.1, ge=0.0, le=1.0, description="probability of extra Gaussian noise on the input")
    scale: float = Field(
        0.0, ge=0.0, le=0.5,
        description="max relative zoom in or out of each crop (input and target alike); 0 disables. Makes a model "
                    "forgive object sizes a little off the ones it was trained at")


# Each kind's model section comes from its registered kind (img2img/kinds/), `model.name` picks it.
ModelConfig = Annotated[Union[tuple(kind.config for kind in KINDS.values())], Field(discriminator="name")]
MODEL_CONFIGS: dict[str, type[Section]] = {name: kind.config for name, kind in KINDS.items()}
DEFAULT_MODEL = "pix2pix"  # what a config without model.name means (configs from before there were others)
# Generator kinds of every model (for key suggestions).
ALL_GENERATOR_CONFIGS: dict[str, type[Section]] = {**GENERATOR_CONFIGS, "srresnet": SRResNetConfig, "rrdb": RRDBConfig,
                                                   "gated": GatedConfig}



class DecodingConfig(Section):
    """How the network's maps become instances (segmentation/encoding.py). Fitted on the
    validation images after training when `segmentation.fit_decoding` is on."""

    foreground_threshold: float = Field(0.5, gt=0.0, lt=1.0, description="foreground probability above which a pixel is an object")
    seed_threshold: float = Field(0.35, gt=0.0, lt=1.0, description="distance-to-edge share above which a pixel seeds an object")
    min_size: int = Field(16, ge=0, description="objects smaller than this many pixels (at the model's scale) are dropped")
    smoothing: float = Field(1.5, ge=0.0, le=10.0, description="Gaussian sigma (px) on the distance map before seeding")
    contact_threshold: float = Field(0.5, gt=0.0, lt=1.0, description="distance_contact: contact-zone probability "
                                                                       "above which a pixel cannot seed an object")


class SegmentationConfig(Section):
    """Segmentation only: object size, and how instances are decoded."""

    encoding: Literal["distance", "distance_contact"] = Field(
        "distance", description="targets: foreground + distance to the edge (distance), plus the zones where objects "
                                "touch (distance_contact)")
    object_diameter: float | None = Field(
        None, gt=0.0,
        description="px: each training image is rescaled so that its median object is this wide (measured on its "
                    "mask), and inference rescales images alike (infer --diameter N or auto); null: images as stored")
    decoding: DecodingConfig = DecodingConfig()
    fit_decoding: bool = Field(
        False, description="after training, choose the decoding thresholds that score best on the validation images")


class OptimizerConfig(Section):
    lr: float = Field(2e-4, gt=0.0)
    beta1: float = Field(0.5, ge=0.0, lt=1.0)
    beta2: float = Field(0.999, ge=0.0, lt=1.0)


class ScheduleConfig(Section):
    """Training length in training steps: one batch each, however many networks it updates."""

    steps: int = Field(2000, ge=1)
    decay: Literal["linear", "cosine", "none"] = "linear"
    decay_start: float = Field(0.5, ge=0.0, le=1.0, description="share of steps at constant lr before decay")


class TrainerConfig(Section):
    """How training runs: device, speed switches ('auto': on where the device gains from them,
    see training/speed.py), processes, EMA, logging."""

    accelerator: str = Field("auto", description="auto, cpu, gpu")
    devices: int | str = Field(1, description="devices per node, or 'auto' (all)")
    num_nodes: int = Field(1, ge=1, description="machines (e.g. SLURM nodes), each running `devices` processes")
    strategy: str = Field("auto", description="auto (DDP when more than one process), ddp, or another Lightning strategy name")
    sync_batchnorm: bool = Field(False, description="DDP: batch-norm statistics over all processes, not each one's batch")
    precision: Literal["auto", "32", "bf16-mixed", "16-mixed"] = "auto"
    channels_last: bool | Literal["auto"] = Field("auto", description="NHWC memory layout for convolutions")
    compile: bool | Literal["auto"] = Field("auto", description="torch.compile the networks")
    ema_decay: float | None = Field(
        None, gt=0.0, lt=1.0, description="keep an EMA copy of the generator(s) for validation and inference, e.g. 0.999")
    val_every_steps: int = Field(200, ge=1)
    log_every_steps: int = Field(10, ge=1)
    samples: int = Field(4, ge=0, description="validation images drawn into each sample grid")


class TrainConfig(Section):
    task: Literal["segmentation", "translation"] = Field(
        "segmentation",
        description="segmentation: targets are instance label masks; translation: targets are images (denoising, staining)",
    )
    model: ModelConfig = Field(default_factory=lambda: KINDS[DEFAULT_MODEL].config())
    data: AnyDataConfig
    input_channels: InputChannels = Field(
        "as_stored", description="as_stored: images must have the model's channel count; gray or rgb: any image is "
                                 "converted (gray copied to three, alpha dropped, colour to luminance)")
    segmentation: SegmentationConfig = SegmentationConfig()
    normalization: Normalization = Normalization()
    target_normalization: Normalization | None = Field(
        None, description="translation: how target images map to [-1, 1]; default: as `normalization`"
    )
    augmentation: AugmentationConfig = AugmentationConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    trainer: TrainerConfig = TrainerConfig()
    output_dir: Path = Field(Path("runs/experiment"), description="checkpoints, logs and samples go here")
    seed: int = 0
    init_from: str | None = Field(
        None, description="fine-tune: a checkpoint (.ckpt path or builtin:NAME) whose weights training starts from, "
                          "with a fresh optimizer and schedule; its model, task, input_channels, normalization and "
                          "segmentation replace the config's (training/finetune.py)")

    @model_validator(mode="before")
    @classmethod
    def _default_model_name(cls, raw):
        if isinstance(raw, dict) and isinstance(raw.get("model"), dict) and "name" not in raw["model"]:
            raw = {**raw, "model": {"name": DEFAULT_MODEL, **raw["model"]}}
        return raw

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_model(cls, raw):
        """A kind that does one task (its `ModelKind.task`) defaults to it, and some change augmentation
        defaults (CycleGAN: geometry only) or optimizer defaults (Noise2Void: Adam beta1 0.9). A missing `data.kind` follows the folder keys given, else
        the kind's first data kind (older configs: paired)."""
        if not isinstance(raw, dict):
            return raw
        model = raw.get("model")
        kind = find_kind(model.get("name") if isinstance(model, dict) else None)  # a list or a number: None
        raw = dict(raw)
        data = raw.get("data")
        if isinstance(data, dict) and "kind" not in data:
            # The folder keys given decide, so a model/data mismatch gets one clear message below.
            given = ("unpaired" if {"a_dir", "b_dir"} & set(data) else "paired" if {"input_dir", "target_dir"} & set(data)
                     else "single" if "image_dir" in data else None)
            raw["data"] = {"kind": given or (kind.data[0] if kind else "paired"), **data}
        if kind is not None and kind.task is not None:
            raw.setdefault("task", kind.task)
        for section in ("augmentation", "optimizer"):
            defaults = getattr(kind, section) if kind is not None else None
            given = raw.get(section)
            if defaults and (given is None or isinstance(given, dict)):
                raw[section] = {**defaults, **(given or {})}
        return raw

    @model_validator(mode="after")
    def _data_fits_model(self) -> "TrainConfig":
        kind = find_kind(self.model.name)
        if self.data.kind not in kind.data:
            raise ValueError(kind.data_error(self.data.kind))
        if self.data.kind == "single" and self.target_normalization is not None:
            raise ValueError("target_normalization: with data.image_dir input and target come from one image and share "
                             "`normalization`; remove target_normalization")
        if kind.task is not None and self.task != kind.task:
            raise ValueError(f"model {self.model.name} {kind.task_reason}; set task: {kind.task} (or remove task)")
        if kind.check is not None:
            kind.check(self)
        return self

    @model_validator(mode="after")
    def _patch_fits_generator(self) -> "TrainConfig":
        multiple = self.generator_size_multiple
        if self.data.patch_size % multiple:
            kind = self.model.generator.kind
            why = "2^model.generator.depth" if kind == "unet" else f"the {kind} generator down-samples twice"
            raise ValueError(f"data.patch_size {self.data.patch_size} must be a multiple of {multiple} ({why})")
        return self

    @model_validator(mode="after")
    def _patch_fits_discriminator(self) -> "TrainConfig":
        """Each PatchGAN layer halves the patch; below 3 px before its last two 4x4 convs nothing is left to judge.
        (Kinds without a discriminator have nothing to check.)"""
        discriminator = getattr(self.model, "discriminator", None)
        if discriminator is None:
            return self
        n = discriminator.n_layers
        if self.data.patch_size < 3 * 2**n:
            raise ValueError(
                f"data.patch_size {self.data.patch_size} is too small for the {n}-layer PatchGAN (at least {3 * 2**n} px); "
                "raise data.patch_size or lower model.discriminator.n_layers"
            )
        return self

    @model_validator(mode="after")
    def _options_fit_task(self) -> "TrainConfig":
        if self.task == "translation" and getattr(self.model, "foreground_weight", 1.0) != 1.0:
            raise ValueError("model.foreground_weight weights object pixels of segmentation masks; remove it for task translation")
        if self.task == "translation" and self.segmentation != SegmentationConfig():
            raise ValueError("segmentation: these settings are for task segmentation; remove the section for task translation")
        if self.task == "segmentation" and self.target_normalization is not None:
            raise ValueError("target_normalization is for task translation; segmentation targets are label masks")
        return self

    @property
    def generator_depth(self) -> int:
        """U-Net: explicit depth, or the reference rule: down-sample until the patch is 1x1, at most 8 times."""
        generator = self.model.generator
        if generator.kind != "unet":
            raise ValueError(f"generator_depth is a U-Net setting; this config uses the {generator.kind} generator")
        if generator.depth is not None:
            return generator.depth
        return max(2, min(8, self.data.patch_size.bit_length() - 1))

    @property
    def generator_size_multiple(self) -> int:
        """Input sides must be multiples of this; the data module and predictor pad to it. Asked of
        the network class (nets/geometry.py), so config and network cannot disagree."""
        from img2img.nets.geometry import size_multiple

        kind = self.model.generator.kind
        return size_multiple(kind, self.generator_depth if kind == "unet" else None)

    @property
    def target_norm(self) -> Normalization:
        """The normalization of translation targets (the input's unless set)."""
        return self.target_normalization or self.normalization

    @property
    def best_metric(self) -> str:
        """The validation metric that picks best.ckpt (see `best_mode`): the kind's own (CycleGAN's
        cycle L1), else PSNR for translation and object F1 for segmentation."""
        return find_kind(self.model.name).metric(self.task)

    @property
    def best_mode(self) -> Literal["min", "max"]:
        """Whether `best_metric` is better low (losses) or high (scores)."""
        return "min" if self.best_metric.startswith("val/loss") else "max"
