import sys

from img2img.cli import main

sys.exit(main())
