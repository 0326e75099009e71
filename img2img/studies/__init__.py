"""Studies that train and measure models (experiments/ runs them): the sim-to-real detection gain
of CycleGAN-translated larvae, the photo-style experiment and the heat-map detector they score
with. The top layer: they use the library as any user would, and no other img2img module imports
them, so a study's needs never become the library's."""
