"""Tests for seqlab.data.sources: find / fetch / verify / extract, offline.

Downloads go to a throw-away HTTP server on 127.0.0.1 serving tiny archives built in memory.
The last test checks the declared checksums against the offline data mirror (SEQLAB_DATA_DIR).
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from seqlab.data import sources
from seqlab.data.sources import SOURCES, Source, extract, fetch, find, verify
from seqlab.errors import DataError

REPO_ROOT = Path(__file__).resolve().parents[2]
CSV = b"Date Time,T (degC)\n" + b"01.01.2009 00:10:00,-8.02\n" * 200


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_tgz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


ZIP = make_zip({"tiny.csv": CSV})
TGZ = make_tgz({"tiny/a.csv": CSV, "tiny/b.txt": os.urandom(20_000)})


class LocalServer:
    """Serves registered bytes over HTTP; `truncate=True` sends half the announced body."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, bool]] = {}
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server dispatches on)
                if self.path not in files:
                    self.send_error(404)
                    return
                body, truncate = files[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if truncate else body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, body: bytes, truncate: bool = False) -> str:
        self.files[path] = (body, truncate)
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "_verified", set())


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- find / fetch from the data dir ---------------------------------------------------------


@pytest.mark.parametrize("flat", [False, True])
def test_fetch_finds_file_in_data_dir(tmp_path: Path, flat: bool) -> None:
    src = Source("tiny", "tiny.csv.zip", None, sha256=(sha256(ZIP),))
    path = put(tmp_path / "tiny.csv.zip" if flat else tmp_path / "tiny" / "tiny.csv.zip", ZIP)
    assert find(src, tmp_path) == path
    assert fetch(src, tmp_path, download=False) == path


def test_find_prefers_subfolder_and_returns_none_when_absent(tmp_path: Path) -> None:
    src = Source("tiny", "tiny.csv.zip", None)
    assert find(src, tmp_path) is None
    put(tmp_path / "tiny.csv.zip", ZIP)
    nested = put(tmp_path / "tiny" / "tiny.csv.zip", ZIP)
    assert find(src, tmp_path) == nested


def test_wrong_checksum_in_data_dir(tmp_path: Path) -> None:
    src = Source("tiny", "tiny.csv.zip", "https://example.org/tiny.csv.zip", sha256=("0" * 64,))
    path = put(tmp_path / "tiny" / "tiny.csv.zip", ZIP)
    with pytest.raises(DataError) as info:
        fetch(src, tmp_path)
    msg = str(info.value)
    assert "0" * 64 in msg and sha256(ZIP) in msg and str(path) in msg and "delete" in msg.lower()
    assert path.read_bytes() == ZIP  # never deletes the user's file itself


def test_verification_is_cached_per_path_size_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    real = sources._file_sha256
    monkeypatch.setattr(sources, "_file_sha256", lambda p: calls.append(p) or real(p))
    src = Source("tiny", "tiny.csv.zip", None, sha256=(sha256(ZIP),))
    path = put(tmp_path / "tiny" / "tiny.csv.zip", ZIP)
    fetch(src, tmp_path)
    fetch(src, tmp_path)
    verify(path, src)
    assert len(calls) == 1
    os.utime(path, ns=(1, 1))  # a replaced file is hashed again
    fetch(src, tmp_path)
    assert len(calls) == 2


# --- download -----------------------------------------------------------------------------------


def test_download_lands_in_named_subfolder_and_verifies(
    server: LocalServer, tmp_path: Path
) -> None:
    url = server.serve("/files/tiny.csv.zip", ZIP)
    src = Source("tiny", "tiny.csv.zip", url, sha256=("f" * 64, sha256(ZIP)))
    path = fetch(src, tmp_path / "data")
    assert path == tmp_path / "data" / "tiny" / "tiny.csv.zip"
    assert path.read_bytes() == ZIP
    assert listing(path.parent) == ["tiny.csv.zip"]  # no temporary file left
    assert fetch(src, tmp_path / "data", download=False) == path


def test_download_with_structural_check(server: LocalServer, tmp_path: Path) -> None:
    url = server.serve("/tiny.tgz", TGZ)
    src = Source(
        "tiny",
        "tiny.tgz",
        url,
        members=("tiny/a.csv",),
        member_git_blobs={"tiny/a.csv": git_blob(CSV)},
    )
    assert fetch(src, tmp_path).read_bytes() == TGZ


def test_downloaded_file_with_wrong_checksum_is_not_kept(
    server: LocalServer, tmp_path: Path
) -> None:
    url = server.serve("/tiny.csv.zip", ZIP)
    src = Source("tiny", "tiny.csv.zip", url, sha256=("0" * 64,))
    with pytest.raises(DataError) as info:
        fetch(src, tmp_path)
    assert "0" * 64 in str(info.value) and sha256(ZIP) in str(info.value)
    assert find(src, tmp_path) is None
    assert listing(tmp_path / "tiny") == []


def test_truncated_download_leaves_no_partial_file(server: LocalServer, tmp_path: Path) -> None:
    url = server.serve("/tiny.tgz", TGZ, truncate=True)
    src = Source("tiny", "tiny.tgz", url)  # no checksum: only the length check can catch it
    with pytest.raises(DataError) as info:
        fetch(src, tmp_path)
    msg = str(info.value)
    assert "download failed" in msg and url in msg and f"{len(TGZ):,}" in msg
    assert listing(tmp_path / "tiny") == []


def test_http_error_and_unreachable_server(server: LocalServer, tmp_path: Path) -> None:
    src = Source("tiny", "tiny.tgz", server.url("/missing.tgz"))
    with pytest.raises(DataError, match="404"):
        fetch(src, tmp_path)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = Source("tiny", "tiny.tgz", f"http://127.0.0.1:{port}/tiny.tgz")
    with pytest.raises(DataError, match="SEQLAB_DATA_DIR"):
        fetch(src, tmp_path)
    assert listing(tmp_path / "tiny") == []


def test_a_failed_download_leaves_no_half_made_data_directory(
    server: LocalServer, tmp_path: Path
) -> None:
    (tmp_path / "kept").mkdir()
    for src in (
        Source("tiny", "tiny.tgz", server.url("/missing.tgz")),  # 404
        Source("tiny", "tiny.csv.zip", server.serve("/t.zip", ZIP), sha256=("0" * 64,)),
    ):
        with pytest.raises(DataError):
            fetch(src, tmp_path / "new" / "data")
        assert not (tmp_path / "new").exists()
        with pytest.raises(DataError):
            fetch(src, tmp_path / "kept")
        assert (tmp_path / "kept").is_dir() and listing(tmp_path / "kept") == []


# --- missing files --------------------------------------------------------------------------


def test_missing_file_without_download_says_where_and_how(tmp_path: Path) -> None:
    url = "https://example.org/data/tiny.tgz"
    with pytest.raises(DataError) as info:
        fetch(Source("tiny", "tiny.tgz", url), tmp_path, download=False)
    msg = str(info.value)
    assert "tiny.tgz" in msg and url in msg and "SEQLAB_DATA_DIR" in msg
    assert str(tmp_path / "tiny" / "tiny.tgz") in msg and str(tmp_path / "tiny.tgz") in msg
    assert not (tmp_path / "tiny").exists()


def test_missing_derived_file_cannot_be_downloaded(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="SEQLAB_DATA_DIR") as info:
        fetch(SOURCES["jena_hourly"], tmp_path, download=True)
    assert "jena_climate_2009_2016_hourly_6cols.csv" in str(info.value)
    assert "not downloadable" in str(info.value)


def test_a_bad_copy_of_the_mirror_only_jena_extract_is_not_to_be_deleted(tmp_path: Path) -> None:
    """The hourly extract has no URL: the fix is the mirror, never "delete and re-download"."""
    source = SOURCES["jena_hourly"]
    path = put(tmp_path / "jena" / source.filename, CSV)
    for check in (lambda: fetch(source, tmp_path), lambda: verify(path, source)):
        with pytest.raises(DataError) as info:
            check()
        msg = str(info.value)
        assert str(path) in msg and "Checksum mismatch" in msg
        assert "download it again" not in msg and "re-run to download" not in msg
        assert "do not delete" in msg and "cannot be downloaded" in msg
        assert "mirror" in msg and "SEQLAB_DATA_DIR" in msg and "PROVENANCE.txt" in msg
    assert path.read_bytes() == CSV
    damaged = put(tmp_path / "derived.tgz", TGZ[: len(TGZ) // 2])  # the same for extraction
    with pytest.raises(DataError, match="do not delete") as info:
        extract(damaged, tmp_path / "cache", Source("derived", "derived.tgz", None))
    assert "re-run to download" not in str(info.value)


# --- permissions --------------------------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_downloads_and_extractions_get_a_normal_files_permissions(
    server: LocalServer, tmp_path: Path, umask_022: None
) -> None:
    """Not mkstemp's 0600 / mkdtemp's 0700: others may read what the umask lets them read."""
    url = server.serve("/tiny.tgz", TGZ)
    path = fetch(Source("tiny", "tiny.tgz", url, sha256=(sha256(TGZ),)), tmp_path / "data")
    plain = put(path.parent / "plain.txt", b"x")
    assert mode(path) == mode(plain) == 0o644
    out = extract(path, tmp_path / "cache", Source("tiny", "tiny.tgz", url))
    assert mode(out) == mode(out.parent) == 0o755


# --- structural checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, data, member", [("tiny.csv.zip", ZIP, "tiny.csv"), ("tiny.tgz", TGZ, "tiny/a.csv")]
)
def test_member_git_blobs(tmp_path: Path, filename: str, data: bytes, member: str) -> None:
    path = put(tmp_path / "tiny" / filename, data)
    good = Source(
        "tiny", filename, None, members=(member,), member_git_blobs={member: git_blob(CSV)}
    )
    verify(path, good)
    assert fetch(good, tmp_path) == path
    bad = Source("tiny", filename, None, member_git_blobs={member: "1" * 40})
    with pytest.raises(DataError) as info:
        verify(path, bad)
    assert "1" * 40 in str(info.value) and git_blob(CSV) in str(info.value)
    missing = Source("tiny", filename, None, members=("nope.csv",))
    with pytest.raises(DataError, match=r"nope\.csv is missing"):
        fetch(missing, tmp_path)


def test_structural_check_rejects_truncated_archive(tmp_path: Path) -> None:
    path = put(tmp_path / "tiny" / "tiny.csv.zip", ZIP[: len(ZIP) // 2])
    src = Source("tiny", "tiny.csv.zip", None, members=("tiny.csv",))
    with pytest.raises(DataError, match="cannot be read"):
        verify(path, src)


def test_declared_sources_are_well_formed() -> None:
    assert set(SOURCES) == {
        "jena",
        "jena_hourly",
        "chicago",
        "imdb",
        "verne",
        "chorales",
        "weather",
    }
    for src in SOURCES.values():
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in src.sha256)
        assert all(len(b) == 40 for b in src.member_git_blobs.values())
        assert src.sha256 or src.members or src.member_git_blobs  # some check always applies
        hash(src)
    assert SOURCES["jena_hourly"].url is None and SOURCES["jena_hourly"].name == "jena"
    assert SOURCES["weather"].url is None and "shared drive" in SOURCES["weather"].unavailable


# --- extract --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, data, inner", [("tiny.csv.zip", ZIP, "tiny.csv"), ("tiny.tgz", TGZ, "tiny/a.csv")]
)
def test_extract_is_atomic_and_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filename: str, data: bytes, inner: str
) -> None:
    archive = put(tmp_path / "data" / filename, data)
    src = Source("tiny", filename, None)
    out = extract(archive, tmp_path / "cache", src)
    assert out == tmp_path / "cache" / "tiny" / filename.removesuffix(".tgz").removesuffix(".zip")
    assert (out / inner).read_bytes() == CSV
    assert listing(out.parent) == [out.name]  # no temporary sibling left

    def boom(*args: object) -> None:
        raise AssertionError("re-extracted")

    monkeypatch.setattr(sources, "_unpack", boom)
    archive.unlink()
    assert extract(archive, tmp_path / "cache", src) == out


def test_extract_replaces_incomplete_destination(tmp_path: Path) -> None:
    archive = put(tmp_path / "tiny.tgz", TGZ)
    stale = put(tmp_path / "cache" / "tiny" / "tiny" / "half.csv", b"x")  # no completion marker
    out = extract(archive, tmp_path / "cache", Source("tiny", "tiny.tgz", None))
    assert not stale.exists() and (out / "tiny" / "a.csv").read_bytes() == CSV


@pytest.mark.parametrize("filename, data", [("tiny.tgz", TGZ), ("tiny.csv.zip", ZIP)])
def test_truncated_archive_in_data_dir_fails_extract_cleanly(
    tmp_path: Path, filename: str, data: bytes
) -> None:
    url = f"https://example.org/{filename}"
    src = Source("tiny", filename, url)  # no checksum, no members: fetch cannot tell
    put(tmp_path / "data" / "tiny" / filename, data[: len(data) * 2 // 3])
    archive = fetch(src, tmp_path / "data", download=False)
    with pytest.raises(DataError) as info:
        extract(archive, tmp_path / "cache", src)
    msg = str(info.value)
    assert str(archive) in msg and "truncated" in msg and "delete" in msg and url in msg
    assert listing(tmp_path / "cache") == []  # no temp folder, no destination


@pytest.mark.parametrize(
    "filename, data",
    [
        ("evil.tgz", make_tgz({"../evil.txt": b"x"})),
        ("evil.zip", make_zip({"../evil.txt": b"x"})),
    ],
)
def test_extract_refuses_path_traversal(tmp_path: Path, filename: str, data: bytes) -> None:
    archive = put(tmp_path / filename, data)
    with pytest.raises(DataError):
        extract(archive, tmp_path / "cache" / "deep", Source("evil", filename, None))
    assert not list(tmp_path.rglob("evil.txt"))
    assert listing(tmp_path / "cache" / "deep") == []


# --- integration: the offline data mirror ---------------------------------------------------


@pytest.mark.integration
def test_offline_mirror_matches_declared_checksums() -> None:
    env = os.environ.get("SEQLAB_DATA_DIR")
    if not env:
        pytest.fail(
            "SEQLAB_DATA_DIR is not set: point it at the offline data mirror "
            "(in CI: SEQLAB_DATA_DIR=../shared/data, relative to the repository root)."
        )
    data_dir = Path(env) if Path(env).is_dir() else REPO_ROOT / env
    assert data_dir.is_dir(), f"SEQLAB_DATA_DIR={env} is not a folder"
    for key in ("jena_hourly", "chicago", "imdb", "verne", "chorales"):
        path = fetch(SOURCES[key], data_dir, download=False)
        assert path.parent.name == SOURCES[key].name, key


def test_extract_replaces_the_extraction_of_another_archive_of_the_same_name(
    tmp_path: Path,
) -> None:
    """A tiny archive of the same name (a test's, a replaced download) extracted into the same
    cache is not read as the real one: the marker records the archive it came from."""
    src = Source("tiny", "tiny.tgz", None)
    first = put(tmp_path / "a" / "tiny.tgz", TGZ)
    out = extract(first, tmp_path / "cache", src)
    (out / "tiny" / "a.csv").write_bytes(b"from the other archive")
    second = put(tmp_path / "b" / "tiny.tgz", TGZ + b"\0" * 512)  # another size: another archive
    assert extract(second, tmp_path / "cache", src) == out
    assert (out / "tiny" / "a.csv").read_bytes() == CSV
    assert listing(out.parent) == [out.name]
