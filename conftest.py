"""pytest setup for the whole repository: the chapters run under the smoke profile (in the smoke build of the
book, or one by one under nbval: ``pytest --nbval-lax --nbval-current-env notebooks/<chapter>.ipynb``).

The notebooks read their profile from ``MNIST_COURSE_PROFILE`` and write their training runs under
``MNIST_COURSE_RUNS``, shared by every chapter of one test session, so that each smoke training happens once.
"""
import os
import tempfile
from pathlib import Path

from mnistlib.course.book import absolute_data_paths

os.environ.setdefault("MNIST_COURSE_PROFILE", "smoke")
os.environ.setdefault("MNIST_COURSE_RUNS", str(Path(tempfile.mkdtemp(prefix="mnist-course-runs-"))))
# nbval starts each kernel in the notebook's own folder: a relative data path must not change meaning there
absolute_data_paths()
