"""The project's upstream data files: one declaration each, plus fetch, verify and extract.

Every data set gets its raw file through `fetch` (find it in the data dir or download it, then
check that it is the file we expect) and, for archives, `extract` (unpack once into the cache dir,
atomically, so that an interrupted run never leaves a half-extracted tree that looks complete).
Problems a user can fix (missing, truncated or wrong files) raise `DataError` with the fix.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from seqlab.errors import DataError
from seqlab.files import atomic_path, new_temp_beside

_ARCHIVES = {".tar.gz": "tar", ".tgz": "tar", ".tar": "tar", ".zip": "zip"}
_MARKER = ".seqlab-extracted"  # written last in an extraction; its presence means "complete"
_CHUNK = 1 << 20
_TIMEOUT_S = 30
_USER_AGENT = "seqlab-data-fetch/1.0 (Python urllib)"
# What reading a damaged archive raises (truncated download, bit rot, unsafe member paths).
_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile)
# (path, size, mtime, checks) already verified in this process: hash a big archive only once.
_verified: set[tuple[object, ...]] = set()


@dataclass(frozen=True)
class Source:
    """One upstream data file, where to get it, and what a good copy of it looks like."""

    name: str  # sub-folder of the data dir, e.g. "jena"
    filename: str  # upstream file name
    url: str | None  # canonical download URL; None: cannot be downloaded (derived file)
    sha256: tuple[str, ...] = ()  # accepted checksums (upstream and known mirrors)
    members: tuple[str, ...] = ()  # archive members that must exist (structural check)
    # member -> git blob sha1 (`git hash-object`); checked when no sha256 is known.
    # hash=False keeps Source hashable despite the dict.
    member_git_blobs: dict[str, str] = field(default_factory=dict, hash=False)
    # why a file without ``url`` cannot be downloaded, for the message when it is missing
    unavailable: str = "it is not downloadable (it is derived from upstream data)"


def find(source: Source, data_dir: Path) -> Path | None:
    """Return the local copy of `source` in `data_dir` (in its sub-folder or flat), or None."""
    return next((p for p in _candidates(source, data_dir) if p.is_file()), None)


def fetch(source: Source, data_dir: Path, download: bool = True) -> Path:
    """Return a verified local copy of `source`, downloading it into data_dir/name/ if needed."""
    path = find(source, data_dir)
    if path is not None:
        verify(path, source)
        return path
    if source.url is None:
        raise DataError(_missing_message(source, data_dir, source.unavailable))
    if not download:
        raise DataError(_missing_message(source, data_dir, "downloading is disabled"))
    dest = Path(data_dir) / source.name / source.filename
    created = _missing_folders(dest.parent)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        # atomic: dest is either absent or complete and verified, with a normal file's mode
        with atomic_path(dest, suffix=".part") as tmp:
            with tmp.open("wb") as out:
                _download(source.url, out, source.filename)
            label = f"{source.filename} downloaded from {source.url}"
            _check(tmp, source, label, fix="re-run; if it keeps failing, the upstream file changed")
    except (OSError, http.client.HTTPException) as e:
        _remove_empty(created)
        raise DataError(_missing_message(source, data_dir, f"the download failed: {e}")) from e
    except BaseException:
        _remove_empty(created)
        raise
    _verified.add(_cache_key(dest, source))
    return dest


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Undo the folders a failed download created: a data directory is not left half-made."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def verify(path: Path, source: Source) -> None:
    """Raise DataError unless `path` is a good copy of `source` (sha256, else structure)."""
    path = Path(path)
    key = _cache_key(path, source)
    if key in _verified:
        return
    _check(path, source, str(path), _replace_fix(path, source))
    _verified.add(key)


def extract(archive: Path, cache_dir: Path, source: Source) -> Path:
    """Unpack `archive` once into cache_dir/name/<stem>, atomically; return that folder.

    The completion marker records the archive's size and modification time: an extraction of
    another archive of the same name (a replaced download, a test's tiny copy sharing the cache)
    is replaced, never read as this one."""
    archive = Path(archive)
    dest = Path(cache_dir) / source.name / _stem(archive.name)
    if not archive.is_file() and (dest / _MARKER).is_file() or _extracted_from(archive, dest):
        return dest
    if not archive.is_file():
        raise DataError(f"Cannot extract {archive}: no such file. Fetch it first.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_beside(dest, suffix=".tmp", directory=True)  # a normal folder's mode
    try:
        try:
            _unpack(archive, tmp)
        except _CORRUPT as e:
            raise DataError(
                f"Cannot extract {archive}: the archive is truncated, corrupt or unsafe ({e}). "
                f"Fix: {_replace_fix(archive, source)}."
            ) from e
        (tmp / _MARKER).write_text(f"complete extraction of {archive}\n{_identity(archive)}\n")
        if _extracted_from(archive, dest):
            return dest  # another process finished first: its copy is as good
        if dest.exists():
            shutil.rmtree(dest)  # an incomplete leftover, or the extraction of another archive
        try:
            os.replace(tmp, dest)
        except OSError:
            if not (dest / _MARKER).is_file():
                raise  # otherwise another process finished first: its copy is as good
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # no-op after a successful rename
        if not dest.exists():
            with contextlib.suppress(OSError):
                dest.parent.rmdir()  # leave nothing behind after a failed first extraction
    return dest


def _extracted_from(archive: Path, dest: Path) -> bool:
    """Whether ``dest`` holds a complete extraction of ``archive`` as it is now."""
    marker = dest / _MARKER
    return (
        archive.is_file()
        and marker.is_file()
        and _identity(archive) in marker.read_text().splitlines()
    )


def _identity(archive: Path) -> str:
    """The line an extraction's marker holds for ``archive``: its size and modification time."""
    stat = archive.stat()
    return f"archive {stat.st_size} bytes, modified {stat.st_mtime_ns} ns"


def _replace_fix(path: Path, source: Source) -> str:
    """How to replace a bad copy of ``source``: download it again, or, for a file that cannot be
    downloaded (the Jena hourly extract exists only in the offline data mirror), copy it back."""
    if source.url:
        return (
            f"delete {path} and re-run to download it again "
            f"(or download it yourself from {source.url})"
        )
    return (
        f"do not delete it: {source.filename} cannot be downloaded again (it is derived from "
        f"upstream data and only the offline data mirror holds it). Copy a good one over it from "
        f"the mirror's {source.name}/ folder (see the mirror's README.md and PROVENANCE.txt), or "
        "point SEQLAB_DATA_DIR at the mirror"
    )


def _candidates(source: Source, data_dir: Path) -> list[Path]:
    return [Path(data_dir) / source.name / source.filename, Path(data_dir) / source.filename]


def _missing_message(source: Source, data_dir: Path, reason: str) -> str:
    looked = "\n".join(f"  {os.path.abspath(p)}" for p in _candidates(source, data_dir))
    folder = os.path.abspath(Path(data_dir) / source.name)
    how = f"Download it from {source.url} into {folder}/, or set" if source.url else "Set"
    return (
        f"Data file {source.filename} (data set '{source.name}') is missing: {reason}.\n"
        f"Looked for:\n{looked}\n{how} SEQLAB_DATA_DIR to a folder that holds "
        f"{source.name}/{source.filename} (for example an offline data mirror)."
    )


def _download(url: str, out: BinaryIO, label: str) -> None:
    """Stream `url` into `out` with a progress bar; raise if the body is shorter than announced."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    done = 0
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
        length = response.headers.get("Content-Length", "")
        total = int(length) if length.isdigit() else None
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(f"Downloading {label}", total=total)
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                progress.update(task, advance=len(chunk))
    if total is not None and done != total:
        raise ConnectionError(f"connection closed after {done:,} of {total:,} bytes")


def _cache_key(path: Path, source: Source) -> tuple[object, ...]:
    st = path.stat()
    checks = (source.sha256, source.members, tuple(sorted(source.member_git_blobs.items())))
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, checks)


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check(path: Path, source: Source, label: str, fix: str) -> None:
    if source.sha256:
        actual = _file_sha256(path)
        if actual not in source.sha256:
            expected = " or ".join(source.sha256)
            raise DataError(
                f"Checksum mismatch for {label}: sha256 is {actual}, expected {expected}. "
                f"The file is truncated, corrupt or a different version. Fix: {fix}."
            )
        return
    problems = _structure_problems(path, source)
    if problems:
        raise DataError(
            f"{label} is not a good copy of {source.filename}: {'; '.join(problems)}. Fix: {fix}."
        )


def _structure_problems(path: Path, source: Source) -> list[str]:
    """Check required members and their git blob ids; return what is wrong (empty: fine)."""
    wanted = set(source.members) | set(source.member_git_blobs)
    if not wanted:
        return []
    try:
        blobs = _member_blobs(path, source.filename, wanted, set(source.member_git_blobs))
    except _CORRUPT as e:
        return [f"it cannot be read as an archive ({e})"]
    problems = [f"member {m} is missing" for m in sorted(wanted - blobs.keys())]
    for member, expected in sorted(source.member_git_blobs.items()):
        if member in blobs and blobs[member] != expected:
            problems.append(f"member {member} has git blob {blobs[member]}, expected {expected}")
    return problems


def _member_blobs(path: Path, filename: str, wanted: set[str], hashed: set[str]) -> dict[str, str]:
    """Map each `wanted` member present in the archive to its git blob id ("" if not hashed)."""
    found: dict[str, str] = {}
    kind = _archive_kind(filename)  # from the declared name: `path` may be a download's temp file
    if kind == "zip":
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = info.filename.removeprefix("./")
                if name in wanted:
                    with zf.open(info) as f:
                        found[name] = _git_blob(f, info.file_size) if name in hashed else ""
    elif kind == "tar":
        with tarfile.open(path, "r:*") as tf:
            for member in tf:
                name = member.name.removeprefix("./")
                if name in wanted and member.isfile():
                    f = tf.extractfile(member)
                    found[name] = _git_blob(f, member.size) if f and name in hashed else ""
    else:
        raise zipfile.BadZipFile("not a .zip, .tar.gz or .tgz file")
    return found


def _git_blob(f: BinaryIO, size: int) -> str:
    """Git's blob id (`git hash-object`), streaming: sha1 of b"blob <size>\\0" + content."""
    digest = hashlib.sha1(b"blob %d\0" % size)
    while chunk := f.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _archive_kind(filename: str) -> str | None:
    """ "zip", "tar" or None (not an archive), from the file name."""
    suffix = next((x for x in _ARCHIVES if filename.endswith(x)), None)
    return _ARCHIVES[suffix] if suffix else None


def _stem(filename: str) -> str:
    return next((filename.removesuffix(x) for x in _ARCHIVES if filename.endswith(x)), filename)


def _unpack(archive: Path, into: Path) -> None:
    kind = _archive_kind(archive.name)
    if kind == "zip":
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                parts = PurePosixPath(name.replace("\\", "/")).parts
                if name.startswith(("/", "\\")) or ".." in parts:
                    raise zipfile.BadZipFile(f"unsafe member path {name!r}")
            zf.extractall(into)
    elif kind == "tar":
        with tarfile.open(archive, "r:*") as tf:
            tf.extractall(into, filter="data")  # refuses absolute paths, "..", odd links
    else:
        raise DataError(f"Cannot extract {archive}: only .zip, .tar.gz and .tgz are supported.")


SOURCES: dict[str, Source] = {
    "jena": Source(
        name="jena",
        filename="jena_climate_2009_2016.csv.zip",
        url="https://s3.amazonaws.com/keras-datasets/jena_climate_2009_2016.csv.zip",
        members=("jena_climate_2009_2016.csv",),
        member_git_blobs={"jena_climate_2009_2016.csv": "e6cfb671e72f630f251a18722fcebe6944c758c0"},
    ),
    # Hourly 6-column extract of the above (offline mirror only; see its PROVENANCE.txt).
    "jena_hourly": Source(
        name="jena",
        filename="jena_climate_2009_2016_hourly_6cols.csv",
        url=None,
        sha256=("b3f13e48694038492e2a8294e7a53a3afe096b5ed292b058b7ab7053e13534c4",),
    ),
    # The long-horizon benchmark's Weather file (Autoformer, DLinear, PatchTST, iTransformer, …):
    # the Jena roof station in 2020, 10-minute rows, 21 columns; see its PROVENANCE.txt.
    "weather": Source(
        name="jena_2020",
        filename="weather.csv",
        url=None,
        sha256=("34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63",),
        unavailable=(
            "the benchmark distributes it through a shared drive, not a stable URL (the "
            "Time-Series-Library / Autoformer 'weather' set): put weather.csv there"
        ),
    ),
    "chicago": Source(
        name="chicago",
        filename="ridership.tgz",
        url="https://github.com/ageron/data/raw/main/ridership.tgz",
        sha256=("0ff99f3dddd886ddea161b68f25f90b56b0468f5c91949b75376fb494516c794",),
        members=("ridership/CTA_-_Ridership_-_Daily_Boarding_Totals.csv",),
    ),
    "imdb": Source(
        name="imdb",
        filename="aclImdb_v1.tar.gz",
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        sha256=(
            "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",  # upstream
            "b3ea9abf41a0fd29824b9c1aa68d7533ee679c479ba71fa5804f3ba1b6f9044d",  # mirror repack
        ),
    ),
    "verne": Source(
        name="verne",
        filename="1268-0.txt",
        url="https://www.gutenberg.org/files/1268/1268-0.txt",
        sha256=("355bfdc3f9b5e384b1918e817dd086ce0df97f4d294c69f032fb70b95c1e737c",),
    ),
    "chorales": Source(
        name="chorales",
        filename="jsb_chorales.tgz",
        url="https://github.com/ageron/data/raw/main/jsb_chorales.tgz",
        sha256=("e722fbc866fc1ba0bac56a6fcad95d7e3e584da80173e13932e3da441440efd7",),
    ),
}
