import math

import torch

from seqlab.nets.base import NetInput
from seqlab.nets.text import BagOfWords, TextCNN
from seqlab.spec import TaskSpec


def test_bag_of_words_starts_from_keras_glorot_uniform_and_zero_bias():
    torch.manual_seed(0)
    net = BagOfWords(TaskSpec("imdb", "classification", "bag", 20_000, 1), units=(16,))
    linear = net.layers[0]
    bound = math.sqrt(6 / (20_000 + 16))
    assert linear.weight.abs().max() <= bound
    assert linear.weight.abs().max() > 0.99 * bound  # not PyTorch's 1/sqrt(20,000) = 0.0071
    assert torch.equal(linear.bias, torch.zeros(16))


def test_text_cnn_leaves_the_windows_in_padding_out_of_the_max():
    torch.manual_seed(0)
    net = TextCNN(TaskSpec("t", "classification", "real", 3, 1), filters=4, kernel_size=2, units=4)
    x = torch.randn(2, 5, 3)
    padded = x.clone()
    padded[1, 2:] = 99.0  # garbage beyond the second text's length
    features = net.eval()(NetInput(padded, lengths=torch.tensor([5, 2])))
    assert torch.allclose(features[1], net(NetInput(x[1:, :2]))[0], atol=1e-6)
    assert torch.allclose(features[0], net(NetInput(x[:1]))[0], atol=1e-6)
