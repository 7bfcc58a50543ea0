"""mnistlib: the library of the mnist-course book.

Data (``mnistlib.data``), models (``mnistlib.models``), training (``mnistlib.train.fit``), evaluation
(``mnistlib.evaluate``) and the command line (``python -m mnistlib``).
"""
from .config import TrainConfig, resolve_config
from .data import load_data
from .models import get_model, get_model_info, list_models
from .train import fit

__version__ = "0.1.0"
__all__ = ["TrainConfig", "fit", "get_model", "get_model_info", "list_models", "load_data", "resolve_config"]
