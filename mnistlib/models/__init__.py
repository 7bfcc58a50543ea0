"""All models of the course. Each module of this package registers its models when imported."""
import importlib
import pkgutil

from .registry import Claim, ModelInfo, count_params, get_model, get_model_info, list_models, register_model

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["Claim", "ModelInfo", "count_params", "get_model", "get_model_info", "list_models", "register_model"]
