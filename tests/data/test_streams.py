import torch

from seqlab.data.streams import IGNORE, next_token_windows, range_starts, stream_windows


def test_streams_continue_across_batches_and_score_every_token_once():
    tokens = torch.arange(1, 104)  # 103 tokens: 102 targets, 3 streams of 34
    ds = stream_windows(tokens, streams=3, length=8)
    batches = [ds.__getitems__(list(range(i, i + 3))) for i in range(0, len(ds), 3)]
    x = torch.cat([b[0] for b in batches], dim=1)  # (streams, steps * length)
    y = torch.cat([b[1] for b in batches], dim=1)
    for s in range(3):
        real = y[s] != IGNORE
        assert torch.equal(x[s][real], tokens[s * 34 : (s + 1) * 34])
        assert torch.equal(y[s][real], tokens[s * 34 + 1 : (s + 1) * 34 + 1])
    scored = y[y != IGNORE]
    assert torch.equal(scored.sort().values, tokens[1:])  # each target exactly once


def test_windows_predict_the_next_token():
    series = torch.arange(50)
    starts = range_starts(10, 40, length=5, stride=3)
    ds = next_token_windows(series, starts, 5)
    x, y = ds.__getitems__([0, len(ds) - 1])
    assert torch.equal(y, x + 1)
    assert int(x[0, 0]) == 10 and int(y[-1, -1]) <= 39
