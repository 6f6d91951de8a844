"""A run folder's life: who is writing it, whether it finished, how to continue it.

``status.json`` says what became of the run (``running``, ``finished``, ``interrupted``,
``failed``) so that a folder is never mistaken for a finished run, a sweep can list its failed
jobs, and an interrupted run names the command that resumes it. ``.lock`` holds the PID of the
process writing the folder: a second run into it is refused instead of interleaving its logs.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from rich.console import Console
from rich.markup import escape

from seqlab.errors import SeqlabError, print_error
from seqlab.files import write_json_atomic

STATUS_FILE = "status.json"
LOCK_FILE = ".lock"
# what Hydra writes into the folder before the run starts: kept when a run replaces the folder
# where Hydra writes a run's configuration when the folder already holds a run: moved to .hydra
# only once the run has passed every check, so a refused resume leaves the earlier one intact
STAGED_HYDRA = ".hydra-next"
HYDRA_OWNED = (".hydra", STAGED_HYDRA, LOCK_FILE)


def read_status(run_dir: Path) -> dict[str, Any]:
    """The folder's ``status.json`` (``{}`` when there is none or it cannot be read)."""
    try:
        status = json.loads((Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def write_status(run_dir: Path, status: str, **fields: Any) -> None:
    """Record ``status`` (and details such as ``error``) in the folder, keeping earlier fields."""
    record = {**read_status(run_dir), "status": status, **fields}
    write_json_atomic(Path(run_dir) / STATUS_FILE, record)


def error_line(error: BaseException) -> str:
    """A job's failure in one line: a ``SeqlabError``'s message (it already says what to do);
    for anything else ``TypeName: message`` (its first line, or the first lines up to one that
    does not end with a colon, as in Hydra's "Error in call to target '...':" + the cause)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if isinstance(error, SeqlabError):
        return " ".join(lines) or type(error).__name__
    text = lines[0] if lines else ""
    for line in lines[1:]:
        if not text.endswith(":"):
            break
        text = f"{text} {line}"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def search_command() -> str | None:
    """In a trial of an Optuna search: the command that continues the search (the same one: the
    study resumes, an interrupted trial runs again), from the search's ``multirun.yaml``."""
    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    if not str(hydra.sweeper.get("_target_", "")).endswith("OptunaSweeper"):
        return None
    saved = Path(hydra.sweep.dir) / "multirun.yaml"
    if not saved.is_file():
        return None
    overrides = OmegaConf.load(saved).hydra.overrides
    words = ["python", "train.py", "-m", *overrides.hydra, *overrides.task]
    return " ".join(shlex.quote(str(word)) for word in words)


def resume_command(run_dir: Path) -> str:
    """The command line that continues this run in its own folder from its last checkpoint
    (a trial of a search: the command that continues the search)."""
    search = search_command()
    if search is not None:
        return search
    overrides: list[str] = []
    if HydraConfig.initialized():
        overrides = [
            o
            for o in HydraConfig.get().overrides.task
            if not o.lstrip("+~").startswith(("ckpt_path=", "overwrite=", "hydra.run.dir="))
        ]
    words = ["python", "train.py", *overrides, f"hydra.run.dir={run_dir}", "ckpt_path=last"]
    return " ".join(shlex.quote(word) for word in words)


class RunFolder:
    """Guards one run folder: refuses to mix a new run into results that exist or are being
    written, and records how the run ended."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock = self.path / LOCK_FILE

    # --- what the folder holds -------------------------------------------------------------
    def owner(self) -> int | None:
        """PID of a live process writing the folder (None when free or the owner is gone)."""
        try:
            record = json.loads(self.lock.read_text(encoding="utf-8"))
            pid, host = int(record["pid"]), record.get("host")
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if pid == os.getpid():
            return None
        if host not in (None, socket.gethostname()):
            return pid  # another machine's process (shared disk): assume it is alive
        return pid if _alive(pid) else None

    def finished(self) -> bool:
        status = read_status(self.path).get("status")
        return status == "finished" or (status is None and (self.path / "metrics.json").exists())

    def holds_results(self) -> bool:
        """Metrics, checkpoints or logs of an earlier run."""
        if (self.path / "metrics.json").exists():
            return True
        return any((self.path / name).exists() for name in ("checkpoints", "csv", "tensorboard"))

    # --- before a run ----------------------------------------------------------------------
    def check(self, *, resume: bool, overwrite: bool) -> None:
        """Refuse, with one line naming the ways on, a run that would mix into this folder."""
        pid = self.owner()
        if pid is not None:
            raise SeqlabError(
                f"another run (PID {pid}) is writing to {self.path}; wait for it to end, or "
                "start this one in a new folder (drop hydra.run.dir=... or choose another). "
                f"If no such run exists, delete {self.lock}."
            )
        if resume or overwrite or not self.holds_results():
            return
        what = "a finished run" if self.finished() else "an unfinished run"
        raise SeqlabError(
            f"{self.path} already holds {what}; nothing was changed. Continue it with "
            "ckpt_path=last, start a new folder (drop hydra.run.dir=... or choose another), "
            "or replace its results with overwrite=true."
        )

    def writable(self, setting: str) -> None:
        """Create the folder and write a probe file in it; one line naming ``setting`` if not."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.path):
                pass
        except OSError as error:
            raise SeqlabError(
                f"cannot write the run folder {self.path} ({error.strerror}); "
                f"choose a writable place with {setting}=<folder>"
            ) from None

    def claim(self, *, resume: bool, overwrite: bool) -> None:
        """Take the folder for this process (lock file with its PID) after ``check``."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.check(resume=resume, overwrite=overwrite)
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
        for _ in range(2):
            try:
                handle = os.open(self.lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if self.owner() is not None:
                    self.check(resume=resume, overwrite=overwrite)  # lost the race: refuse
                self.lock.unlink(missing_ok=True)  # a dead owner's, or our own
                continue
            with os.fdopen(handle, "w") as stream:
                stream.write(record)
            break
        if overwrite and not resume:
            self.clear()

    def clear(self) -> None:
        """Remove an earlier run's results (``overwrite=true``); Hydra's files for this run stay."""
        for entry in self.path.iterdir():
            if entry.name in HYDRA_OWNED or entry.suffix == ".log":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def install_configuration(self) -> None:
        """This run's configuration, staged by `RunFolderGuard`, becomes the folder's ``.hydra``."""
        staged = self.path / STAGED_HYDRA
        if staged.is_dir():
            shutil.rmtree(self.path / ".hydra", ignore_errors=True)
            staged.rename(self.path / ".hydra")

    def withdraw(self) -> None:
        """Undo what a refused run wrote: its staged configuration, and the folder itself when
        it holds nothing but this run's Hydra files and log (nothing else is ever touched)."""
        shutil.rmtree(self.path / STAGED_HYDRA, ignore_errors=True)
        try:
            entries = list(self.path.iterdir())
        except OSError:
            return
        if all(e.name == ".hydra" or (e.suffix == ".log" and e.is_file()) for e in entries):
            for entry in entries:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            self.path.rmdir()
            for parent in self.path.parents[:2]:  # runs/<model>-<data>/ made for it, if empty
                try:
                    parent.rmdir()
                except OSError:
                    break

    @contextmanager
    def refusable(self) -> Iterator[None]:
        """The checks that may refuse a run (options, resume, data, model x data): a refusal
        leaves the folder as it was; nothing is deleted or rewritten before they pass."""
        try:
            yield
        except BaseException:
            if rank_zero_only.rank == 0:
                self.withdraw()
            raise

    def release(self) -> None:
        try:
            record = json.loads(self.lock.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if record.get("pid") == os.getpid():
            self.lock.unlink(missing_ok=True)

    # --- around a run ----------------------------------------------------------------------
    @contextmanager
    def running(self, *, resume: bool, overwrite: bool) -> Iterator[None]:
        """Claim the folder, record the run's end in ``status.json``, release the folder.

        Ctrl-C and SIGTERM (Lightning stops at the next batch) mark the run ``interrupted`` and
        print the command that resumes it; the process then exits with 130 / 143.
        """
        if rank_zero_only.rank != 0:  # DDP ranks > 0 share rank 0's folder
            yield
            return
        self.claim(resume=resume, overwrite=overwrite)
        self.install_configuration()
        command = resume_command(self.path)
        write_status(self.path, "running", pid=os.getpid(), resume_command=command, error=None)
        try:
            yield
        except (KeyboardInterrupt, SystemExit) as stop:
            last = self.path / "checkpoints" / "last.ckpt"
            kept = str(last) if last.exists() else None
            write_status(self.path, "interrupted", last_checkpoint=kept)
            Console(stderr=True, soft_wrap=True).print(
                f"[bold yellow]interrupted:[/] the run in {escape(str(self.path))} did not finish. "
                f"Resume it with:\n{escape(command)}",
                highlight=False,
            )
            code = 143 if isinstance(stop, SIGTERMException) else 130
            raise SystemExit(code) from None
        except BaseException as error:
            write_status(self.path, "failed", error=error_line(error))
            raise
        else:
            write_status(self.path, "finished")
        finally:
            self.release()


UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


class RunFolderGuard(Callback):
    """Hydra callback: refuses a run before Hydra writes its ``.hydra`` files into the folder, so
    a refused run changes nothing, and an unwritable run folder is one line, not a traceback."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if rank_zero_only.rank != 0:
            return
        HydraConfig.instance().set_config(config)
        folder = RunFolder(config.hydra.run.dir)
        try:
            # the checkpoint itself is read (and a bad one refused) by train.py, before any change
            resume = config.get("ckpt_path") is not None
            folder.check(resume=resume, overwrite=bool(config.get("overwrite")))
            folder.writable("hydra.run.dir")
        except SeqlabError as error:
            print_error(error)
            sys.exit(1)
        if (folder.path / ".hydra").exists() and config.hydra.output_subdir == ".hydra":
            # an earlier run's configuration stays until this run passes its checks
            with read_write(config.hydra), open_dict(config.hydra):
                config.hydra.output_subdir = STAGED_HYDRA

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        HydraConfig.instance().set_config(config)
        try:
            RunFolder(config.hydra.sweep.dir).writable("hydra.sweep.dir")
        except SeqlabError as error:
            print_error(error)
            sys.exit(1)
