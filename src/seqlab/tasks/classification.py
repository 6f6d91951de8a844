"""Classification: a label per text (IMDB sentiment), trained with binary cross-entropy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torchmetrics import MaxMetric, MetricCollection
from torchmetrics.classification import (
    BinaryAccuracy,
    BinaryAUROC,
    BinaryConfusionMatrix,
    BinaryF1Score,
)

from seqlab.errors import SeqlabError
from seqlab.media.plots import plot_confusion
from seqlab.spec import TaskSpec
from seqlab.tasks.base import OptimizerFactory, SchedulerFactory, SeqlabTask
from seqlab.tasks.network import NetFactory, build_network, check_compatible, net_class


class ClassificationTask(SeqlabTask):
    """Architecture → one logit per text; BCE loss; accuracy, F1 and AUROC per split.

    A batch is ``(*inputs, labels)``: ``(features, labels)`` for bags of words,
    ``(ids, lengths, labels)`` for token sequences. Token ids reach the net as trainable
    embeddings (``embedding_dim``), as one-hot vectors (``one_hot=True``), or embeddings
    initialised from ``pretrained_embeddings`` (a file from ``scripts/pretrain_embeddings.py``,
    matched word by word, optionally frozen). Nets that declare ``reads_lengths`` get the true
    lengths, so they can skip the padding.
    """

    def __init__(
        self,
        net: NetFactory,
        spec: TaskSpec,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        embedding_dim: int = 128,
        one_hot: bool = False,
        pretrained_embeddings: str | None = None,
        freeze_embeddings: bool = False,
        monitor: str = "val/acc",
        monitor_mode: str = "max",
    ) -> None:
        super().__init__(optimizer, scheduler, monitor, monitor_mode)
        if spec.output_size != 1:
            raise SeqlabError(
                f"data={spec.data_name} has {spec.output_size} classes; the classification task "
                "handles binary labels (one logit)"
            )
        self.spec = spec
        if "real" not in net_class(net).input_kinds:
            check_compatible(net, spec)  # name the data's own inputs, not the embedded ones
        if one_hot and spec.input_kind == "tokens":
            _, self.net, self.head = build_network(net, replace(spec, input_kind="real"))
            self.adapter: nn.Module = self.net.one_hot_input(spec.input_size)
        else:
            self.adapter, self.net, self.head = build_network(net, spec, embedding_dim)
        self.pretrained_embeddings = pretrained_embeddings
        self.labels_fitted = False
        if freeze_embeddings and isinstance(self.adapter, nn.Embedding):
            self.adapter.weight.requires_grad_(False)
        self.loss_fn = nn.BCEWithLogitsLoss()
        metrics = MetricCollection(
            {"acc": BinaryAccuracy(), "f1": BinaryF1Score(), "auroc": BinaryAUROC()}
        )
        self.train_acc = BinaryAccuracy()
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")
        self.val_acc_best = MaxMetric()
        self.test_confusion = BinaryConfusionMatrix()

    def setup(self, stage: str) -> None:
        if stage == "fit" and self.pretrained_embeddings:
            self.load_embeddings(Path(self.pretrained_embeddings))
        fit_labels = getattr(self.net, "fit_labels", None)
        datamodule = getattr(self._trainer, "datamodule", None)
        if fit_labels is not None and datamodule is not None and not self.labels_fitted:
            # a baseline set from the training labels (nets.baselines.Majority), never trained
            fit_labels(torch.cat([batch[-1] for batch in datamodule.train_dataloader()]))
            self.labels_fitted = True

    def load_embeddings(self, path: Path) -> int:
        """Copy the vectors of words the file knows into the embedding; returns how many."""
        if not isinstance(self.adapter, nn.Embedding):
            raise SeqlabError("task.pretrained_embeddings needs token inputs with an embedding")
        if not path.is_file():
            raise SeqlabError(
                f"pretrained embeddings {path} not found; make them with "
                "`python scripts/pretrain_embeddings.py` or set task.pretrained_embeddings=null"
            )
        saved = torch.load(path, map_location="cpu", weights_only=True)
        vectors = saved["vectors"]
        if vectors.shape[1] != self.adapter.embedding_dim:
            raise SeqlabError(
                f"{path} holds {vectors.shape[1]}-dimensional vectors but task.embedding_dim is "
                f"{self.adapter.embedding_dim}; set task.embedding_dim={vectors.shape[1]}"
            )
        known = {word: i for i, word in enumerate(saved["words"])}
        pairs = [(i, known[w]) for i, w in enumerate(self.spec.feature_names) if w in known]
        mine, theirs = (torch.tensor(list(column)) for column in zip(*pairs, strict=True))
        with torch.no_grad():
            self.adapter.weight[mine] = vectors[theirs].to(self.adapter.weight)
        return len(pairs)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """One logit per text."""
        features = self.adapter(x)
        if self.net.reads_lengths and lengths is not None:
            out = self.net(features, lengths=lengths)
        else:
            out = self.net(features)
        return self.head(out).squeeze(-1)

    def _step(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        *inputs, labels = batch
        logits = self(*inputs)
        return self.loss_fn(logits, labels.float()), logits

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return self._step(batch)[0]

    def training_step(self, batch: tuple[torch.Tensor, ...], _: int) -> torch.Tensor:
        loss, logits = self._step(batch)
        labels = batch[-1]
        self.train_acc.update(logits, labels)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(labels))
        return loss

    def on_train_epoch_end(self) -> None:
        # logged once per epoch: every self.log call costs the small nets a few % of their step
        self.log("train/acc", self.train_acc.compute())
        self.train_acc.reset()

    def validation_step(self, batch: tuple[torch.Tensor, ...], _: int) -> None:
        loss, logits = self._step(batch)
        labels = batch[-1]
        self.val_metrics.update(logits, labels)
        self.log("val/loss", loss, batch_size=len(labels), sync_dist=True)

    def on_validation_epoch_end(self) -> None:
        values = self.val_metrics.compute()
        self.log_dict(values, prog_bar=True, sync_dist=True)
        self.val_metrics.reset()
        if not self.trainer.sanity_checking:
            self.val_acc_best(values["val/acc"])
            self.log("val/acc_best", self.val_acc_best.compute(), sync_dist=True)

    def on_test_epoch_start(self) -> None:
        self.test_confusion.reset()

    def test_step(self, batch: tuple[torch.Tensor, ...], _: int) -> None:
        loss, logits = self._step(batch)
        labels = batch[-1]
        self.test_metrics.update(logits, labels)
        self.test_confusion.update(logits, labels)
        self.log("test/loss", loss, batch_size=len(labels), sync_dist=True)

    def on_test_epoch_end(self) -> None:
        self.log_dict(self.test_metrics.compute(), sync_dist=True)
        self.test_metrics.reset()

    @torch.no_grad()
    def predict_proba(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Probability of the positive class for each text of a batch."""
        self.eval()
        return torch.sigmoid(self(*inputs))

    def write_artifacts(self, output_dir: Path, title: str) -> list[Path]:
        if not self.test_confusion.update_called:
            return []
        matrix = self.test_confusion.compute().cpu()
        labels = self.spec.target_names or ("0", "1")
        return [plot_confusion(matrix, labels, output_dir / "confusion_matrix.png", title)]
