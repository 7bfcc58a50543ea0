"""Shao et al. 2023, section 3.2: three convolutions for features, two dense layers to classify.

    conv 3x3, 12, stride 1 -> BN -> ReLU          (1, 28, 28) -> (12, 28, 28)
    conv 6x6, 24, stride 2 -> BN -> ReLU          -> (24, 14, 14)
    conv 6x6, 32, stride 2 -> BN -> ReLU          -> (32, 7, 7), flattened to 1,568 features
    dense 200 -> ReLU -> dropout 0.4 -> dense 10  (softmax lives in the loss)

'SAME' padding: TensorFlow pads a 6x6 / stride-2 convolution by 2 before and 2 after on a 28 or 14 input,
which is PyTorch's ``padding=2`` here. Weights start from a normal of std 0.1 truncated at two standard
deviations (as TensorFlow's ``truncated_normal``), biases at 0.1 (section 2.1).

Batch norm keeps Keras's defaults (the paper used Keras/TensorFlow): eps 1e-3 and momentum 0.99, PyTorch's
``momentum=0.01`` (:mod:`.keras_defaults`). With PyTorch's eps 1e-5 instead, the same weights give logits up
to 6e-3 apart, and where running variances are small about half the predictions change.
"""
from __future__ import annotations

from torch import nn

from .keras_defaults import batch_norm as keras_batch_norm
from ..data.catalog import MNIST_MEAN_STD
from .registry import Claim, register_model

SOURCE = "Shao et al. 2023, Intelligent Automation & Soft Computing 36(3), 3595-3606"
PAPER = "Shao et al. 2023"  # the work that reports every claim below (models.SOURCES)


ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
DOWNSAMPLING = ("stride", "maxpool")


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'SAME' padding (before, after) along one axis: the output has ceil(size / stride) positions."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_block(c_in: int, c_out: int, kernel: int, stride: int, size: int, batch_norm: bool, activation: str,
               pool: bool = False) -> nn.Sequential:
    """'SAME' conv (+ Keras-default BN) + activation (+ 2x2 max-pool) on a ``size`` x ``size`` input."""
    before, after = same_padding(size, kernel, stride)
    layers = [nn.Conv2d(c_in, c_out, kernel, stride, padding=before)] if before == after else \
        [nn.ZeroPad2d((before, after, before, after)), nn.Conv2d(c_in, c_out, kernel, stride)]
    layers += [keras_batch_norm(c_out)] if batch_norm else []
    layers += [ACTIVATIONS[activation]()] + ([nn.MaxPool2d(2)] if pool else [])
    return nn.Sequential(*layers)


class ShaoCNN(nn.Module):
    """Input ``(B, 1, 28, 28)``, output logits ``(B, 10)``; 354,138 trainable parameters as published.

    The arguments are the hyperparameters the paper says it tuned (section 2.2), defaulting to its
    choices: kernel sizes of layers 2 and 3, batch norm, the activation, dropout, and how layers 2 and 3
    halve the resolution (``stride``: stride-2 convolutions, as published; ``maxpool``: stride-1
    convolutions followed by 2x2 max-pooling).
    """

    def __init__(self, dropout: float = 0.4, kernel2: int = 6, kernel3: int = 6, batch_norm: bool = True,
                 activation: str = "relu", downsample: str = "stride", init_std: float = 0.1, init_bias: float = 0.1):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if downsample not in DOWNSAMPLING:
            raise ValueError(f"downsample must be one of {', '.join(DOWNSAMPLING)}, got {downsample!r}")
        stride, pool = (2, False) if downsample == "stride" else (1, True)
        self.features = nn.Sequential(
            conv_block(1, 12, 3, 1, 28, batch_norm, activation),
            conv_block(12, 24, kernel2, stride, 28, batch_norm, activation, pool),
            conv_block(24, 32, kernel3, stride, 14, batch_norm, activation, pool),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(nn.Linear(7 * 7 * 32, 200), ACTIVATIONS[activation](), nn.Dropout(dropout),
                                        nn.Linear(200, 10))
        for layer in self.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(layer.weight, std=init_std, a=-2 * init_std, b=2 * init_std)
                nn.init.constant_(layer.bias, init_bias)

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model(
    "shao_cnn",
    source=SOURCE,
    reported_accuracy=99.40,
    reported_params=None,
    batch_dependent=False,
    normalize=MNIST_MEAN_STD,
    recipes={
        # Section 3.3: Adam 1e-3, exponential decay 0.99 per epoch, batch 1000, stop after 2 epochs
        # without a better validation loss and keep the best epoch.
        "full": dict(epochs=50, batch_size=1000, optimizer="adam", lr=1e-3, schedule="exponential",
                     gamma=0.99, patience=2),
        # CPU-sized: 3 epochs at batch 100 (550 steps an epoch instead of 55) reach the paper's regime.
        "quick": dict(epochs=3, batch_size=100),
        # The course's improved recipe for the same 354,138 parameters: on-device augmentation (rotation,
        # shift, scale), AdamW with a one-cycle schedule, every epoch run, the epoch selected on validation
        # accuracy: trained with label smoothing, the network's validation cross-entropy stops following its
        # accuracy (a CPU run of seed 0 had its lowest validation loss at epoch 14 of 30, 0.3 points below
        # the accuracy of its last epochs).
        "improved": dict(epochs=30, batch_size=128, optimizer="adamw", lr=3e-3, weight_decay=5e-4,
                         schedule="onecycle", patience=None, augment="affine", label_smoothing=0.05,
                         select="val_accuracy"),
    },
    notes="The paper gives no parameter count; 354,138 is what its stated layers contain.",
    claims=(
        Claim("test accuracy %", 99.40, "abstract; the paragraph on the test set (after Fig. 6)", source=PAPER),
        Claim("test loss", 0.0171, "the paragraph on the test set", source=PAPER),
        Claim("test accuracy of digit 6 %", 97, "the paragraph on the test set ('97% of number 6')", resolution=0.5,
              source=PAPER),
        Claim("test accuracy of digit 1 %", 100, "the paragraph on the test set ('1 reaches 100%')", resolution=0.5,
              source=PAPER),
        Claim("training accuracy %", 99.82, "Table 2", source=PAPER),
        Claim("best validation epoch", 8, "section 3, Fig. 3 ('best validation performance ... at Epoch 8')",
              statistic="each", source=PAPER),
        Claim("gain from learning-rate decay (points)", 2.9, "section on the learning rate ('improved by 2.9%')",
              source=PAPER),
    ),
)
def shao_cnn(**kwargs) -> nn.Module:
    """Shao et al.'s 3-conv CNN with batch norm (12-24-32 channels, dense 200, dropout 0.4)."""
    return ShaoCNN(**kwargs)
