"""The data layer: verified IDX files, found or downloaded, held on the training device."""
from .augment import AUGMENTATIONS, TTA_POLICIES, RandomAffine, build_augmentation, tta_views
from .catalog import DATASETS, MNIST_MEAN_STD, DatasetSpec, IdxFile, get_spec
from .splits import TRAIN_SIZE, VAL_SIZE, DeviceData, Split, load_data, split_indices, to_device_split
from .idx import DataError, read_idx
from .locate import REPOSITORY_ROOT, default_cache_dir, load_arrays, locate

__all__ = ["AUGMENTATIONS", "TTA_POLICIES", "tta_views", "build_augmentation", "DATASETS", "DataError", "MNIST_MEAN_STD", "REPOSITORY_ROOT", "DatasetSpec", "DeviceData", "IdxFile", "RandomAffine", "Split", "TRAIN_SIZE", "VAL_SIZE",
           "get_spec", "load_arrays", "load_data", "locate", "read_idx", "split_indices", "to_device_split",
           "default_cache_dir"]
