"""All models of the course. Importing a model module registers its models (``@register_model``); the
modules are named here one by one, so that a reader (or a tool) can follow every registration."""
from . import baseline_cnn, efficient_capsnet, gecco, resnet, shao_cnn, spinalnet  # noqa: F401  (registration)
from .efficient_capsnet import EfficientCapsNet, capsule_length, squash
from .gecco import GECCO, batch_attention
from .registry import SOURCES, Claim, ModelInfo, Source, count_params, get_model, get_model_info, list_models, register_model
from .shao_cnn import ShaoCNN
from .spinalnet import SpinalHead

__all__ = ["SOURCES", "Source", "Claim", "ModelInfo", "count_params", "get_model", "get_model_info", "list_models", "register_model",
           # the building blocks the course's lessons open up
           "EfficientCapsNet", "capsule_length", "squash", "GECCO", "batch_attention", "ShaoCNN", "SpinalHead"]
