import math

import torch

from seqlab.nets.text import BagOfWords
from seqlab.spec import TaskSpec


def test_bag_of_words_starts_from_keras_glorot_uniform_and_zero_bias():
    torch.manual_seed(0)
    net = BagOfWords(TaskSpec("imdb", "classification", "bag", 20_000, 1), units=(16,))
    linear = net.layers[0]
    bound = math.sqrt(6 / (20_000 + 16))
    assert linear.weight.abs().max() <= bound
    assert linear.weight.abs().max() > 0.99 * bound  # not PyTorch's 1/sqrt(20,000) = 0.0071
    assert torch.equal(linear.bias, torch.zeros(16))
