"""The data layer: verified IDX files, found or downloaded, held on the training device."""
from .augment import AUGMENTATIONS, RandomAffine, build_augmentation
from .catalog import DATASETS, MNIST_MEAN_STD, DatasetSpec, IdxFile, get_spec
from .device import VAL_SIZE, DeviceData, Split, load_data, split_indices
from .idx import DataError, read_idx
from .locate import load_arrays, locate

__all__ = ["AUGMENTATIONS", "build_augmentation", "DATASETS", "DataError", "MNIST_MEAN_STD", "DatasetSpec", "DeviceData", "IdxFile", "RandomAffine", "Split", "VAL_SIZE",
           "get_spec", "load_arrays", "load_data", "locate", "read_idx", "split_indices"]
