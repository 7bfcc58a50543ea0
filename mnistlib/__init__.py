"""mnistlib: the library of the mnist-course book, in three floors over its two foundations.

- ``mnistlib.data`` and ``mnistlib.models``: the datasets on the device, the model registry;
- ``mnistlib.training``: the config and recipes, the loop (``fit``), evaluation, checkpoints, the fast paths;
- ``mnistlib.study``: one run and its record, the reproduction, statistics, reports, the hyperparameter
  study, the benchmark, the CPU study's plan;
- ``mnistlib.course``: the book's build, the notebooks' helpers, plots and lessons;

and the command line (``python -m mnistlib``) on top. A floor imports only from the floors below it.
"""
from .data import load_data
from .models import get_model, get_model_info, list_models
from .training.config import TrainConfig, resolve_config
from .training.loop import fit

__version__ = "0.1.0"
__all__ = ["TrainConfig", "fit", "get_model", "get_model_info", "list_models", "load_data", "resolve_config"]
