"""The training configuration: one typed, validated tree per YAML file.

Every section forbids unknown keys, so a typo is an error that names the key instead of a
setting silently ignored. Each model has its own config class (selected by `model.name`),
rather than one global bag of options that every model reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from img2img.io.channels import InputChannels
from img2img.io.normalization import Normalization


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, raw: Any) -> Any:
        """pydantic takes true as 1 where a number is expected, and YAML reads true, yes and on as
        booleans: `schedule.steps: true` trained a single step without a word. (A model validator:
        pydantic allows no field validator on the discriminator fields `name` and `kind`.)"""
        if not isinstance(raw, dict):
            return raw
        for name, value in raw.items():
            field = cls.model_fields.get(name)
            kind = _number_kind(field.annotation) if field is not None else None
            items = value if isinstance(value, (list, tuple)) else [value]
            if kind is not None and any(isinstance(v, bool) for v in items):
                raise PydanticCustomError(
                    "bool_for_number", "expected {kind}, got {value} (YAML reads true/false, yes/no and on/off as booleans)",
                    {"field": name, "kind": kind, "value": json.dumps(value)},
                )
        return raw


def _number_kind(annotation: Any) -> str | None:
    """"a whole number" or "a number" where an annotation takes numbers but no booleans, else None."""
    kinds = _types_in(annotation)
    if bool in kinds or any(isinstance(k, bool) for k in kinds):
        return None
    return "a whole number" if int in kinds else "a number" if float in kinds else None


def _types_in(annotation: Any) -> set:
    """The types (and Literal values) an annotation admits, through unions, Optional and tuples."""
    if annotation is Any:
        return {bool, int, float}
    if get_origin(annotation) is Literal:
        return set(get_args(annotation))
    args = get_args(annotation)
    return set().union(*(_types_in(a) for a in args)) if args else {annotation}


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


class UNetConfig(Section):
    """The Pix2Pix reference generator: skip connections keep fine detail of the input."""

    kind: Literal["unet"] = "unet"
    depth: int | None = Field(None, ge=2, le=10, description="down-samplings; default: patch reaches 1x1, at most 8")
    base_channels: int = Field(64, ge=4)
    norm: Literal["batch", "instance", "none"] = "batch"
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    upsample: Literal["transpose", "bilinear"] = "transpose"


class ResNetConfig(Section):
    """The CycleGAN reference generator: two down-samplings, residual blocks, two up-samplings."""

    kind: Literal["resnet"] = "resnet"
    n_blocks: int = Field(9, ge=1, le=32, description="residual blocks (reference: 9 at 256 px, 6 at 128 px)")
    base_channels: int = Field(64, ge=4)
    norm: Literal["batch", "instance", "none"] = "instance"
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="inside each residual block")
    upsample: Literal["transpose", "bilinear"] = "transpose"


GeneratorConfig = Annotated[Union[UNetConfig, ResNetConfig], Field(discriminator="kind")]
GENERATOR_CONFIGS: dict[str, type[Section]] = {"unet": UNetConfig, "resnet": ResNetConfig}
RESNET_SIZE_MULTIPLE = 4  # two stride-2 convolutions


class DiscriminatorConfig(Section):
    base_channels: int = Field(64, ge=4)
    n_layers: int = Field(3, ge=1, le=6, description="3 gives the reference 70x70 PatchGAN")
    norm: Literal["batch", "instance", "none"] = "batch"


class Pix2PixConfig(Section):
    name: Literal["pix2pix"] = "pix2pix"
    generator: GeneratorConfig = UNetConfig()
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    l1_weight: float = Field(100.0, ge=0.0, description="lambda of the L1 term (paper: 100)")
    gan_weight: float = Field(1.0, ge=0.0, description="weight of the adversarial term; 0 trains a plain U-Net")
    gan_mode: Literal["vanilla", "lsgan"] = "vanilla"
    foreground_weight: float = Field(
        1.0, ge=1.0, le=100.0,
        description="segmentation: L1 weight of object pixels; raise it when objects cover a few percent of the image",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_generator_kind(cls, raw):
        """Configs and checkpoints from before `kind` existed mean the U-Net."""
        if isinstance(raw, dict) and isinstance(raw.get("generator"), dict) and "kind" not in raw["generator"]:
            raw = {**raw, "generator": {"kind": "unet", **raw["generator"]}}
        return raw


class CycleGANDiscriminatorConfig(DiscriminatorConfig):
    """The reference CycleGAN PatchGAN uses instance norm (batches are of one image)."""

    norm: Literal["batch", "instance", "none"] = "instance"


class CycleGANConfig(Section):
    """CycleGAN (Zhu et al. 2017): two generators A->B and B->A, a PatchGAN per domain, trained
    without pairs by cycle consistency. Defaults are the reference ones."""

    name: Literal["cyclegan"] = "cyclegan"
    generator: ResNetConfig = ResNetConfig()
    discriminator: CycleGANDiscriminatorConfig = CycleGANDiscriminatorConfig()
    gan_mode: Literal["lsgan", "vanilla"] = Field("lsgan", description="reference: lsgan (least squares)")
    cycle_weight: float = Field(10.0, ge=0.0, description="lambda of A->B->A and B->A->B L1 (reference: 10)")
    identity_weight: float = Field(
        0.5, ge=0.0, description="identity L1 weight as a share of cycle_weight (reference: 0.5); 0 disables it",
    )
    pool_size: int = Field(50, ge=0, description="history of generated images shown to each discriminator; 0 disables")


class SRResNetConfig(Section):
    """SRResNet (Ledig et al. 2017): residual blocks at low resolution, PixelShuffle up-sampling."""

    kind: Literal["srresnet"] = "srresnet"
    n_blocks: int = Field(16, ge=1, le=64, description="residual blocks (reference: 16)")
    base_channels: int = Field(64, ge=4)
    norm: Literal["batch", "none"] = Field("batch", description="reference SRResNet: batch; EDSR found none better")


class RRDBConfig(Section):
    """ESRGAN's residual-in-residual dense blocks, without batch norm (it causes artefacts in SR)."""

    kind: Literal["rrdb"] = "rrdb"
    n_blocks: int = Field(23, ge=1, le=64, description="RRDBs (reference: 23)")
    base_channels: int = Field(64, ge=4)
    growth_channels: int = Field(32, ge=4, description="channels each dense layer adds")


SRGeneratorConfig = Annotated[Union[SRResNetConfig, RRDBConfig], Field(discriminator="kind")]


class DegradationConfig(Section):
    """How a high-resolution crop becomes its low-resolution input: optional blur (the
    microscope's PSF), downscaling, optional noise (the camera's), in that order."""

    downscale: Literal["bicubic", "area"] = Field("bicubic", description="bicubic (antialiased) or area (pixel binning)")
    blur_sigma: float = Field(0.0, ge=0.0, le=10.0, description="Gaussian PSF sigma in high-resolution pixels; 0: none")
    noise_std: float = Field(0.0, ge=0.0, le=0.5, description="Gaussian noise std as a share of the intensity range; 0: none")


class SuperResConfig(Section):
    """Super-resolution GAN (SRGAN/ESRGAN): L1 pre-training, then L1 + adversarial (+ features)."""

    name: Literal["superres"] = "superres"
    scale: Literal[2, 4] = Field(2, description="output pixels per input pixel along each axis")
    generator: SRGeneratorConfig = SRResNetConfig()
    discriminator: CycleGANDiscriminatorConfig = CycleGANDiscriminatorConfig()
    degradation: DegradationConfig = DegradationConfig()
    pretrain_steps: int = Field(1000, ge=0, description="steps of L1 alone before the adversarial term starts")
    l1_weight: float = Field(1.0, ge=0.0)
    gan_weight: float = Field(0.005, ge=0.0, description="ESRGAN: 0.005 with L1 0.01 and features 1; 0 trains L1 only")
    gan_mode: Literal["vanilla", "lsgan"] = "vanilla"
    feature_weights: Path | None = Field(
        None, description="VGG-19 weights file (torchvision layout, features.N.*) for a perceptual loss; none downloaded")
    feature_layer: int = Field(34, ge=1, le=35, description="last VGG-19 features layer used (34: conv5_4, as ESRGAN)")
    feature_weight: float = Field(1.0, ge=0.0)

    @model_validator(mode="before")
    @classmethod
    def _default_generator_kind(cls, raw):
        if isinstance(raw, dict) and isinstance(raw.get("generator"), dict) and "kind" not in raw["generator"]:
            raw = {**raw, "generator": {"kind": "srresnet", **raw["generator"]}}
        return raw


class GatedConfig(Section):
    """DeepFill v2's coarse gated-convolution network, slimmed (two down-samplings, dilated middle)."""

    kind: Literal["gated"] = "gated"
    base_channels: int = Field(32, ge=4, description="DeepFill v2: 48")
    n_dilated: int = Field(4, ge=0, le=8, description="dilated gated convolutions (dilation 2, 4, 8, 16) in the middle")


class MaskConfig(Section):
    """Training holes, drawn fresh for every crop; sizes in pixels (DeepFill v2's, for 256 px images)."""

    strokes: tuple[int, int] = Field((1, 3), description="min and max free-form strokes per mask")
    stroke_width: tuple[float, float] = Field((12.0, 40.0), description="stroke width range, px")
    box_probability: float = Field(0.3, ge=0.0, le=1.0, description="share of masks that are a box")
    both_probability: float = Field(0.3, ge=0.0, le=1.0, description="share of box masks that also get strokes")
    box_size: tuple[float, float] = Field((16.0, 64.0), description="box side range, px")

    @model_validator(mode="after")
    def _ranges(self) -> "MaskConfig":
        for name in ("strokes", "stroke_width", "box_size"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                raise ValueError(f"{name} [{lo}, {hi}]: give [min, max] with 0 <= min <= max")
        return self


class InpaintConfig(Section):
    """Inpainting (DeepFill v2 style): image + hole mask in, known pixels copied back out."""

    name: Literal["inpaint"] = "inpaint"
    generator: GatedConfig = GatedConfig()
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    masks: MaskConfig = MaskConfig()
    pretrain_steps: int = Field(500, ge=0, description="steps of L1 alone before the adversarial term starts")
    l1_weight: float = Field(1.0, ge=0.0)
    hole_weight: float = Field(6.0, ge=0.0, description="L1 weight of hole pixels (Liu et al. 2018: 6)")
    valid_weight: float = Field(1.0, ge=0.0, description="L1 weight of the raw output on known pixels")
    gan_weight: float = Field(0.01, ge=0.0)
    gan_mode: Literal["vanilla", "lsgan"] = "lsgan"


class ColorizeConfig(Section):
    """Colorization (gray -> colour, chroma predicted, the input's luminance kept) and, with
    keep_luminance false, virtual staining between any channel counts (paired folders)."""

    name: Literal["colorize"] = "colorize"
    generator: GeneratorConfig = UNetConfig(dropout=0.0, upsample="bilinear")
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    keep_luminance: bool = Field(
        True, description="true: 1-channel input -> RGB, predicting YUV chroma (UV) and keeping the input as Y; "
                          "false: predict all output channels (virtual staining, paired folders)")
    pretrain_steps: int = Field(0, ge=0, description="steps of L1 alone before the adversarial term starts")
    l1_weight: float = Field(100.0, ge=0.0, description="Pix2Pix: 100")
    gan_weight: float = Field(1.0, ge=0.0)
    gan_mode: Literal["vanilla", "lsgan"] = "vanilla"

    @model_validator(mode="before")
    @classmethod
    def _default_generator_kind(cls, raw):
        if isinstance(raw, dict) and isinstance(raw.get("generator"), dict) and "kind" not in raw["generator"]:
            raw = {**raw, "generator": {"kind": "unet", **raw["generator"]}}
        return raw


ModelConfig = Annotated[Union[Pix2PixConfig, CycleGANConfig, SuperResConfig, InpaintConfig, ColorizeConfig],
                        Field(discriminator="name")]
MODEL_CONFIGS: dict[str, type[Section]] = {"pix2pix": Pix2PixConfig, "cyclegan": CycleGANConfig, "superres": SuperResConfig,
                                           "inpaint": InpaintConfig, "colorize": ColorizeConfig}
# Models that make their input from one folder of clean images (or read pairs); always task translation.
RESTORATION_MODELS = {"superres", "inpaint", "colorize"}
# Generator kinds of every model (for key suggestions) and each model's default kind.
ALL_GENERATOR_CONFIGS: dict[str, type[Section]] = {**GENERATOR_CONFIGS, "srresnet": SRResNetConfig, "rrdb": RRDBConfig,
                                                   "gated": GatedConfig}
DEFAULT_GENERATOR = {"pix2pix": "unet", "cyclegan": "resnet", "superres": "srresnet", "inpaint": "gated", "colorize": "unet"}
# Models trained on two unmatched folders; every other model reads paired data.
UNPAIRED_MODELS = {"cyclegan"}
# Geometry only for unpaired models: noise or blur on one domain changes the very style they learn.
_UNPAIRED_AUGMENTATION = {"brightness_contrast": 0.0, "gamma": 0.0, "blur": 0.0, "noise": 0.0}


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
    """Training length in optimisation steps (one generator + one discriminator update each)."""

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
    model: ModelConfig = Pix2PixConfig()
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
            raw = {**raw, "model": {"name": "pix2pix", **raw["model"]}}
        return raw

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_model(cls, raw):
        """Unpaired models default to task translation and geometry-only augmentation. A missing
        `data.kind` follows the folder keys given, else the model (older configs: paired)."""
        if not isinstance(raw, dict):
            return raw
        model = raw.get("model")
        name = model.get("name") if isinstance(model, dict) else None
        name = name if isinstance(name, str) else None  # a list or a number: validation below says so
        unpaired = name in UNPAIRED_MODELS
        raw = dict(raw)
        data = raw.get("data")
        if isinstance(data, dict) and "kind" not in data:
            # The folder keys given decide, so a model/data mismatch gets one clear message below.
            given = ("unpaired" if {"a_dir", "b_dir"} & set(data) else "paired" if {"input_dir", "target_dir"} & set(data)
                     else "single" if "image_dir" in data else None)
            default = "unpaired" if unpaired else "single" if name in RESTORATION_MODELS else "paired"
            raw["data"] = {"kind": given or default, **data}
        if name in RESTORATION_MODELS:
            raw.setdefault("task", "translation")
        if unpaired:
            raw.setdefault("task", "translation")
            augmentation = raw.get("augmentation")
            if augmentation is None or isinstance(augmentation, dict):
                raw["augmentation"] = {**_UNPAIRED_AUGMENTATION, **(augmentation or {})}
        return raw

    @model_validator(mode="after")
    def _data_fits_model(self) -> "TrainConfig":
        unpaired = self.model.name in UNPAIRED_MODELS
        if unpaired and self.data.kind != "unpaired":
            raise ValueError(f"model {self.model.name} trains on two unmatched folders: give data.a_dir and data.b_dir")
        if not unpaired and self.data.kind == "unpaired":
            raise ValueError(f"model {self.model.name} trains on pairs: give data.input_dir and data.target_dir")
        restoration = self.model.name in RESTORATION_MODELS
        if self.model.name == "inpaint" and self.data.kind != "single":
            raise ValueError("model inpaint makes its holes itself: give data.image_dir (a folder of complete images)")
        if self.model.name == "colorize" and not self.model.keep_luminance and self.data.kind == "single":
            raise ValueError("model.keep_luminance false (virtual staining) learns from pairs: give data.input_dir "
                             "and data.target_dir")
        if self.data.kind == "single" and self.target_normalization is not None:
            raise ValueError("target_normalization: with data.image_dir input and target come from one image and share "
                             "`normalization`; remove target_normalization")
        if self.data.kind == "single" and not restoration:
            raise ValueError(f"model {self.model.name} trains on pairs: give data.input_dir and data.target_dir, not data.image_dir")
        if restoration and self.task != "translation":
            raise ValueError(f"model {self.model.name} makes images; set task: translation (or remove task)")
        if unpaired and self.task != "translation":
            raise ValueError(f"model {self.model.name} translates images; set task: translation (or remove task)")
        if unpaired and self.target_normalization is not None:
            raise ValueError(
                "target_normalization: CycleGAN scales both domains with `normalization`, so one checkpoint runs "
                "either direction; remove target_normalization"
            )
        return self

    @model_validator(mode="after")
    def _patch_fits_generator(self) -> "TrainConfig":
        if self.model.name == "superres":
            if self.data.patch_size % self.model.scale:
                raise ValueError(f"data.patch_size {self.data.patch_size} (high-resolution crop) must be a multiple of "
                                 f"model.scale {self.model.scale}")
            return self
        multiple = self.generator_size_multiple
        if self.data.patch_size % multiple:
            kind = self.model.generator.kind
            why = "2^model.generator.depth" if kind == "unet" else f"the {kind} generator down-samples twice"
            raise ValueError(f"data.patch_size {self.data.patch_size} must be a multiple of {multiple} ({why})")
        return self

    @model_validator(mode="after")
    def _patch_fits_discriminator(self) -> "TrainConfig":
        """Each PatchGAN layer halves the patch; below 3 px before its last two 4x4 convs nothing is left to judge."""
        n = self.model.discriminator.n_layers
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
        """Input sides must be multiples of this; the data module and predictor pad to it."""
        if self.model.generator.kind in ("srresnet", "rrdb"):
            return 1  # stride-1 convolutions at the input's resolution
        if self.model.generator.kind == "gated":
            return 4  # two stride-2 gated convolutions
        return 2**self.generator_depth if self.model.generator.kind == "unet" else RESNET_SIZE_MULTIPLE

    @property
    def target_norm(self) -> Normalization:
        """The normalization of translation targets (the input's unless set)."""
        return self.target_normalization or self.normalization

    @property
    def best_metric(self) -> str:
        """The validation metric that picks best.ckpt (see `best_mode`). CycleGAN has no target
        to score against, so its mean cycle L1 (A->B->A and B->A->B) stands in."""
        if self.model.name == "cyclegan":
            return "val/loss_cycle"
        return "val/psnr" if self.task == "translation" else "val/f1"

    @property
    def best_mode(self) -> Literal["min", "max"]:
        """Whether `best_metric` is better low (losses) or high (scores)."""
        return "min" if self.best_metric.startswith("val/loss") else "max"
