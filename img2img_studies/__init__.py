"""Studies that train and measure models (experiments/ runs them): the sim-to-real detection gain
of CycleGAN-translated larvae, the photo-style experiment and the heat-map detector they score
with. Kept out of the img2img library, which they use as any user would: nothing in img2img
imports them, so a study's needs never become the library's."""
