"""Classification: a label per text; two classes with one logit and binary cross-entropy (IMDB
sentiment), more with one logit per class and cross-entropy."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    BinaryAccuracy,
    BinaryAUROC,
    BinaryConfusionMatrix,
    BinaryF1Score,
    MulticlassAccuracy,
    MulticlassAUROC,
    MulticlassConfusionMatrix,
    MulticlassF1Score,
)

from seqlab.errors import SeqlabError
from seqlab.nets.base import FitsLabels, NetInput
from seqlab.spec import TaskSpec
from seqlab.tasks.base import OptimizerFactory, SchedulerFactory, SeqlabTask
from seqlab.tasks.network import NetFactory, build_network, check_compatible, net_class


class ClassificationTask(SeqlabTask):
    """Architecture → one logit per text (two classes: BCE loss) or one per class (more:
    cross-entropy); accuracy, F1 and AUROC per split, and with more than two classes macro F1
    and AUROC plus each class's accuracy (``test/acc_<class>``). ``class_weights=true`` weighs
    each class's loss by its inverse frequency in the training labels (unbalanced data).

    A batch is ``(*inputs, labels)``: ``(features, labels)`` for bags of words,
    ``(ids, lengths, labels)`` for token sequences. Token ids reach the net as trainable
    embeddings (``embedding_dim``), as one-hot vectors (``one_hot=True``), or embeddings
    initialised from ``pretrained_embeddings`` (a file from ``scripts/pretrain_embeddings.py``,
    matched word by word, optionally frozen). Every net gets the true lengths (`NetInput`), so
    those that read them skip the padding.
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
        class_weights: bool = False,
        monitor: str = "val/acc",
        monitor_mode: str = "max",
    ) -> None:
        super().__init__(optimizer, scheduler, monitor, monitor_mode)
        self.spec = spec
        self.classes = spec.output_size  # 1: two classes, one logit
        self.class_weights = class_weights
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
        self.loss_fn: nn.Module = (
            nn.BCEWithLogitsLoss() if self.classes == 1 else nn.CrossEntropyLoss()
        )
        if self.classes == 1:
            metrics = MetricCollection(
                {"acc": BinaryAccuracy(), "f1": BinaryF1Score(), "auroc": BinaryAUROC()}
            )
            self.train_acc = BinaryAccuracy()
            self.test_confusion = BinaryConfusionMatrix()
        else:
            k = self.classes
            metrics = MetricCollection(
                {
                    "acc": MulticlassAccuracy(k, average="micro"),
                    "f1": MulticlassF1Score(k, average="macro"),
                    "auroc": MulticlassAUROC(k, average="macro"),
                }
            )
            self.train_acc = MulticlassAccuracy(k, average="micro")
            self.test_confusion = MulticlassConfusionMatrix(k)
            self.test_per_class = MulticlassAccuracy(k, average=None)
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")

    def setup(self, stage: str) -> None:
        if stage == "fit" and self.pretrained_embeddings:
            self.load_embeddings(Path(self.pretrained_embeddings))
        datamodule = self._trainer.datamodule if self._trainer is not None else None
        if stage == "fit" and self.class_weights and datamodule is not None:
            self.weigh_classes(datamodule.datasets["train"].labels)
        if isinstance(self.net, FitsLabels) and datamodule is not None and not self.labels_fitted:
            # a baseline set from the training labels (nets.baselines.Majority), never trained
            self.net.fit_labels(torch.cat([batch[-1] for batch in datamodule.train_dataloader()]))
            self.labels_fitted = True

    def weigh_classes(self, labels: torch.Tensor) -> torch.Tensor:
        """Each class's loss weighed by its inverse frequency in ``labels`` (two classes: the
        positive class's weight is negatives / positives)."""
        counts = torch.bincount(labels, minlength=max(self.classes, 2)).float().clamp(min=1)
        if self.classes == 1:
            weights = counts[0] / counts[1]
            self.loss_fn = nn.BCEWithLogitsLoss(pos_weight=weights)
            name = "pos_weight"
        else:
            weights = counts.sum() / (len(counts) * counts)
            self.loss_fn = nn.CrossEntropyLoss(weight=weights)
            name = "weight"
        # training-only: a checkpoint restored for evaluation builds its loss without them
        self.loss_fn.register_buffer(name, weights, persistent=False)
        return weights

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
        """One logit per text (two classes), or one per class."""
        logits = self.head(self.net(NetInput(self.adapter(x), lengths=lengths)))
        return logits.squeeze(-1) if self.classes == 1 else logits

    def forward_loss(
        self, batch: tuple[torch.Tensor, ...], split: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        *inputs, labels = batch
        logits = self(*inputs)
        targets = labels.float() if self.classes == 1 else labels
        return self.loss_fn(logits, targets), logits

    def update_metrics(
        self, split: str, batch: tuple[torch.Tensor, ...], loss: torch.Tensor, logits: torch.Tensor
    ) -> None:
        labels = batch[-1]
        if split == "train":
            self.train_acc.update(logits, labels)
            return
        (self.val_metrics if split == "val" else self.test_metrics).update(logits, labels)
        if split == "test":
            self.test_confusion.update(logits, labels)
            if self.classes > 1:
                self.test_per_class.update(logits, labels)
        self.log(f"{split}/loss", loss, batch_size=len(labels), sync_dist=True)

    def epoch_metrics(self, split: str) -> dict[str, torch.Tensor]:
        if split == "train":
            self.log("train/acc", self.train_acc.compute())
            self.train_acc.reset()
            return {}
        metrics = self.val_metrics if split == "val" else self.test_metrics
        values = metrics.compute()
        self.log_dict(values, prog_bar=split == "val", sync_dist=True)
        metrics.reset()
        if split == "test" and self.classes > 1:
            names = self.spec.target_names or tuple(map(str, range(self.classes)))
            for name, value in zip(names, self.test_per_class.compute(), strict=True):
                key = re.sub(r"\W+", "_", name)  # "part 1" -> test/acc_part_1
                self.log(f"test/acc_{key}", value, sync_dist=True)
        return values

    def on_test_epoch_start(self) -> None:
        self.test_confusion.reset()
        if self.classes > 1:
            self.test_per_class.reset()

    @torch.no_grad()
    def predict_proba(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Each text's probability of the positive class (two classes), or of every class."""
        self.eval()
        logits = self(*inputs)
        return torch.sigmoid(logits) if self.classes == 1 else torch.softmax(logits, dim=-1)

    def test_confusion_matrix(self) -> tuple[torch.Tensor, tuple[str, ...]] | None:
        """The last test pass's confusion matrix and its class names (None before one)."""
        if not self.test_confusion.update_called:
            return None
        return self.test_confusion.compute().cpu(), self.spec.target_names or ("0", "1")
