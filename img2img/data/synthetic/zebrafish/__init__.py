"""Simulated videos of zebrafish larvae in a dish, seen from above, with every larva's head
position and heading in every frame: the simulated domain of the sim-to-real larva workflow.

`rig.py` the settings a lab matches to its own setup (YAML); `swimming.py` bout-and-glide paths;
`drawing.py` the dish and the larvae; `video.py` frames and positions written to disk.
"""

from img2img.data.synthetic.zebrafish.rig import Rig, load_rig
from img2img.data.synthetic.zebrafish.video import simulate_video, write_videos

__all__ = ["Rig", "load_rig", "simulate_video", "write_videos"]
