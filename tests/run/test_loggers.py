"""seqlab.run.loggers: TensorBoard's HParams view gets each run's overrides beside its metrics."""

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

from seqlab.cli.train import train
from tests.helpers import TINY_RUN, compose_train


def test_a_run_logs_its_overrides_and_final_metrics_for_the_hparams_view(jena_hourly_dir, tmp_path):
    overrides = [*TINY_RUN, f"paths.data_dir={jena_hourly_dir}", "model=gru"]
    overrides += ["logger=tensorboard", "model.hidden_size=4", "task.optimizer.lr=0.003"]
    metrics = train(compose_train(overrides, tmp_path / "run"))
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    given = HParamsPluginData.FromString(content).session_start_info.hparams
    assert given["model"].string_value == "gru" and given["data"].string_value == "jena"
    assert given["model.hidden_size"].string_value == "4"
    assert given["task.optimizer.lr"].string_value == "0.003"
    logged = events.Scalars("hparams/test/mae")
    assert logged[-1].value == metrics.test["mae"]
