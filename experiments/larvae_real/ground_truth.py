"""Semi-automatic ground truth for the real one-larva clip (issue 18, item 1).

    OMP_NUM_THREADS=1 python experiments/larvae_real/ground_truth.py \
        [--frames ../shared/data/larvae_real/onefish_trial1] [--sheet docs/images/larvae_real_ground_truth.png]

Data: 98 consecutive 1024x1024 uint8 frames of one zebrafish larva swimming in a dish, OneFish_Trial_1 of
github.com/MiningMyBusiness/LarvalZebrafishTracker (Data/OneFish_Trial_1), MIT licence, (c) 2017 Kiran
Bhattacharyya. The frames are read from --frames and never copied into the repository.

Method (per frame, no hand-edited numbers):
  1. Background = per-pixel median over all 98 frames (the larva is in any one place for fewer than half of
     them, so it vanishes from the median). diff = gaussian_filter(background - frame, 1.5): dark = positive.
     Pixels outside the dish (centre (541, 518), radius 480 px) are ignored.
  2. Body = the largest connected component of diff > 40 (eyes, head, swim bladder, trunk).
  3. Eyes = of the 4 strongest local maxima of diff on the body (above 0.6 x its peak), the pair 5-14 px apart
     with the largest summed diff (the eyes are the darkest parts; the swim bladder is paler and lies > 14 px
     behind at least one eye). Each maximum is refined to the diff-weighted centroid within 3 px; head centre =
     midpoint of the two eyes. Fallback when no pair qualifies (never happened in this clip): the darkest point.
  4. Heading = direction from the trunk point (diff-weighted centroid of body pixels 12-30 px from the head
     centre: swim bladder and anterior trunk) to the head centre. Cross-check printed: the normal to the eye line.
  5. Tail tip = the pixel of a low-threshold mask (gaussian sigma 2.5, diff > 12, components touching the body)
     farthest from the head along the mask (geodesic distance).

Conventions: x = column, y = row, in pixels from the top-left corner of the full 1024x1024 frame (pixel centres
at integers). heading_deg = degrees(atan2(dy, dx)) in image coordinates, in (-180, 180]: 0 = facing +x (right),
90 = facing +y (DOWN the image), -90 = facing up, 180 = facing left. (Clockwise on screen, because y points down.)
tail_x, tail_y = the far end of the visible tail: the last ~25 px of the tail are very faint, so this point can fall
short of the true tip by up to ~25 px (in the still frames 0-36 it alternates between ~85 and ~109 px from the head);
left empty where the mask is shorter than MIN_TAIL = 80 px along the body (tail lost in noise). Use the tail point
as an approximate body-axis end, not as precise ground truth; head and heading are the ground truth.

Split: frames 0-77 -> "train", frames 78-97 -> "test" (a held-out block of the last 20 consecutive frames, so
test frames are not interleaved with near-duplicate neighbours in train).

checked = "yes" for frames whose contact-sheet crop (--sheet: crop around the head, head centre in red,
heading arrow in green, tail tip in blue when inside the crop) was inspected by eye and found right.
Prints per-frame step length (px/frame) of the head centre: min / median / max, so a jump would show.
"""

import argparse
import csv
import math
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, ImageDraw
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.graph import MCP_Geometric

HERE = Path(__file__).resolve().parent
DISH_CENTRE, DISH_RADIUS = (541.0, 518.0), 480.0
N_TRAIN = 78
MIN_TAIL = 80  # px along the mask from the head; shorter = faint tail lost, tail tip left empty
# Frames whose head centre and heading were inspected by eye on the contact sheet (2x zoom) and found right:
# all 98 (2026-12-05; no frame needed a fix after the eye-pair rule replaced blob thresholding).
CHECKED = set(range(98))
NOTES: dict[int, str] = {}


def weighted_centroid(weights, mask):
    ys, xs = np.nonzero(mask)
    w = weights[ys, xs].clip(min=1e-6)
    return float((xs * w).sum() / w.sum()), float((ys * w).sum() / w.sum())


def analyse(diff, diff_lo):
    """Head centre, heading and tail tip of the larva in one frame's smoothed difference image."""
    lab, n = ndi.label(diff > 40)
    sizes = ndi.sum(np.ones_like(diff), lab, range(1, n + 1))
    body = lab == int(np.argmax(sizes)) + 1
    ys, xs = np.nonzero(body)
    y0, y1, x0, x1 = max(ys.min() - 120, 0), ys.max() + 121, max(xs.min() - 120, 0), xs.max() + 121
    d, dlo, body = diff[y0:y1, x0:x1], diff_lo[y0:y1, x0:x1], body[y0:y1, x0:x1]

    # eyes: the two strongest local maxima of diff on the body that are 5-14 px apart (the swim bladder and
    # trunk are paler than the eyes, and the bladder lies > 14 px behind at least one eye)
    peak = d[body].max()
    maxima = peak_local_max(np.where(body, d, 0), min_distance=2, threshold_abs=0.6 * peak, num_peaks=4)
    pairs = [(d[tuple(a)] + d[tuple(b)], a, b) for k, a in enumerate(maxima) for b in maxima[k + 1:]
             if 5 <= math.hypot(*(a - b)) <= 14]
    yy, xx = np.mgrid[: d.shape[0], : d.shape[1]]
    if pairs:
        _, a, b = max(pairs, key=lambda p: p[0])
        eyes = []
        for y, x in (a, b):  # refine each maximum: diff-weighted centroid within 3 px, above half its height
            m = (np.hypot(xx - x, yy - y) <= 3) & (d > 0.5 * d[y, x])
            eyes.append(weighted_centroid(d - 0.5 * d[y, x], m))
        hx, hy = (eyes[0][0] + eyes[1][0]) / 2, (eyes[0][1] + eyes[1][1]) / 2
        method = "eyes"
    else:  # fallback: the darkest point
        hy, hx = map(float, maxima[0])
        eyes, method = None, "darkest point"

    # tail tip: the point of the low-threshold mask (body + faint tail) farthest from the head along the mask
    llab, _ = ndi.label((dlo > 12) | body)
    low = np.isin(llab, np.unique(llab[body]))
    geo, _ = MCP_Geometric(np.where(low, 1.0, np.inf)).find_costs([(int(round(hy)), int(round(hx)))])
    geo = np.where(low & np.isfinite(geo), geo, -1)
    ty, tx = np.unravel_index(np.argmax(geo), geo.shape)
    tail_len = float(geo[ty, tx])

    r = np.hypot(xx - hx, yy - hy)
    ring = body & (r >= 12) & (r <= 30)
    bx, by = weighted_centroid(d, ring)
    heading = math.degrees(math.atan2(hy - by, hx - bx))

    eye_heading = None
    if eyes:  # independent check: the perpendicular to the eye line, on the side away from the trunk
        ex, ey = eyes[1][0] - eyes[0][0], eyes[1][1] - eyes[0][1]
        nx, ny = -ey, ex
        if nx * (hx - bx) + ny * (hy - by) < 0:
            nx, ny = -nx, -ny
        eye_heading = math.degrees(math.atan2(ny, nx))
    tail = (tx + x0, ty + y0) if tail_len >= MIN_TAIL else (None, None)
    return dict(head_x=hx + x0, head_y=hy + y0, heading_deg=heading, tail_x=tail[0], tail_y=tail[1],
                trunk=(bx + x0, by + y0), eye_heading=eye_heading, tail_len=tail_len, method=method)


def contact_sheet(frames, rows, path, crop=96, cols=14):
    """Crop around each head: head centre (red ring), heading (green line from the head, 22 px), trunk point
    (yellow dot), tail tip direction (blue line from the head to the tail tip). Grey is kept at 16 levels
    (plus 4 overlay colours, one palette PNG) so that the sheet stays under 400 KB."""
    red, green, yellow, blue = 16, 17, 18, 19
    palette = [v for i in range(16) for v in (i * 16 + 8,) * 3] + [255, 0, 0, 0, 230, 0, 255, 255, 0, 60, 140, 255]
    nrow = math.ceil(len(frames) / cols)
    sheet = Image.new("P", (cols * crop, nrow * crop), 0)
    sheet.putpalette(palette)
    h = crop // 2
    for i, (frame, row) in enumerate(zip(frames, rows)):
        cx, cy = int(round(row["head_x"])), int(round(row["head_y"]))
        pad = np.pad(frame, h, mode="constant")
        tile = Image.fromarray(pad[cy: cy + crop, cx: cx + crop] // 16, mode="L").convert("P")
        tile.putpalette(palette)
        dr = ImageDraw.Draw(tile)
        ox, oy = cx - h, cy - h
        px, py = row["head_x"] - ox, row["head_y"] - oy
        if row["tail_x"] is not None:
            dr.line([(px, py), (row["tail_x"] - ox, row["tail_y"] - oy)], fill=blue, width=1)
        a = math.radians(row["heading_deg"])
        dr.line([(px, py), (px + 22 * math.cos(a), py + 22 * math.sin(a))], fill=green, width=1)
        dr.ellipse([px - 2.5, py - 2.5, px + 2.5, py + 2.5], outline=red)
        tx, ty = row["trunk"]
        dr.point((tx - ox, ty - oy), fill=yellow)
        dr.text((2, 1), f"{i}", fill=yellow)
        sheet.paste(tile, ((i % cols) * crop, (i // cols) * crop))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=Path, default=HERE.parents[2] / "shared/data/larvae_real/onefish_trial1")
    parser.add_argument("--out", type=Path, default=HERE / "onefish_trial1_positions.csv")
    parser.add_argument("--sheet", type=Path, default=HERE.parents[1] / "docs/images/larvae_real_ground_truth.png")
    args = parser.parse_args()

    files = sorted(args.frames.glob("frame_*.tif"))
    frames = np.stack([tifffile.imread(f) for f in files])
    background = np.median(frames, axis=0).astype(np.float32)
    yy, xx = np.mgrid[: background.shape[0], : background.shape[1]]
    dish = np.hypot(xx - DISH_CENTRE[0], yy - DISH_CENTRE[1]) <= DISH_RADIUS

    rows = []
    for i, (f, frame) in enumerate(zip(files, frames)):
        raw = background - frame.astype(np.float32)
        diff = np.where(dish, ndi.gaussian_filter(raw, 1.5), 0)
        diff_lo = np.where(dish, ndi.gaussian_filter(raw, 2.5), 0)
        row = analyse(diff, diff_lo)
        row.update(frame=i, file=f.name, split="train" if i < N_TRAIN else "test",
                   checked="yes" if i in CHECKED else "no", note=NOTES.get(i, ""))
        rows.append(row)

    cols = ["frame", "file", "head_x", "head_y", "heading_deg", "tail_x", "tail_y", "split", "checked", "note"]
    with open(args.out, "w", newline="") as fh:
        fh.write("# OneFish_Trial_1 (github.com/MiningMyBusiness/LarvalZebrafishTracker, MIT, (c) 2017 Kiran "
                 "Bhattacharyya); made by experiments/larvae_real/ground_truth.py\n")
        fh.write("# x = column, y = row, px from top-left of the 1024x1024 frame; head = midpoint of the eyes; "
                 "heading_deg = atan2(dy, dx) in image coords: 0 = +x (right), 90 = +y (down); tail = far end of the "
                 "visible tail (approximate, up to ~25 px short of the tip; empty where lost); split: 0-77 train, "
                 "78-97 test\n")
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            fmt = lambda v, nd=1: "" if v is None else f"{v:.{nd}f}"
            w.writerow([r["frame"], r["file"], fmt(r["head_x"]), fmt(r["head_y"]), fmt(r["heading_deg"]),
                        fmt(r["tail_x"], 0), fmt(r["tail_y"], 0), r["split"], r["checked"], r["note"]])
    contact_sheet(frames, rows, args.sheet)

    head = np.array([[r["head_x"], r["head_y"]] for r in rows])
    steps = np.hypot(*np.diff(head, axis=0).T)
    dhead = np.abs((np.diff([r["heading_deg"] for r in rows]) + 180) % 360 - 180)
    print(f"wrote {args.out} and {args.sheet}")
    print(f"head step px/frame: min {steps.min():.2f}  median {np.median(steps):.2f}  max {steps.max():.2f} "
          f"(frame {int(np.argmax(steps)) + 1})")
    print(f"heading change deg/frame: median {np.median(dhead):.1f}  max {dhead.max():.1f} "
          f"(frame {int(np.argmax(dhead)) + 1})")
    dev = [abs((r["heading_deg"] - r["eye_heading"] + 180) % 360 - 180) for r in rows if r["eye_heading"] is not None]
    print(f"|heading - eye-line normal| deg: median {np.median(dev):.1f}  max {max(dev):.1f}")
    print("fallbacks (no eye pair):", [r["frame"] for r in rows if r["method"] != "eyes"] or "none")
    print("no tail tip:", [r["frame"] for r in rows if r["tail_x"] is None] or "none")


if __name__ == "__main__":
    main()
