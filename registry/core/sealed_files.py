"""Files kept encrypted at rest in pieces (sealed): neither writing nor reading one holds it whole in memory.

An upload of a million rows is ≈ 80 MB: encrypting it as one Fernet token held the file, its token and the
decrypted copy at once. A sealed file is a header followed by pieces, each `PIECE_BYTES` of the file (the
last one shorter) encrypted as a Fernet token of its own behind its 4-byte length. Reading decrypts one
piece at a time and seeks by piece, which is what a zip reader (.xlsx) needs. A file written whole by the
versions before (one token, no header) is still read, whole, as it was written.

`protector` is the app's DocumentProtector (its encrypt_file/decrypt_file), passed in: core imports no area.
"""
import hashlib
import io
import struct
from pathlib import Path
from typing import BinaryIO

from registry.core import private_files

MAGIC = b"registry-sealed-v1\n"
PIECE_BYTES = 256 * 1024
_LENGTH = struct.Struct(">I")


def seal(source: BinaryIO, path: Path, protector) -> str:
    """Encrypt what `source` holds from where it stands into `path` (owner-only); its SHA-256 in hex."""
    digest = hashlib.sha256()
    temporary = path.with_name(path.name + ".sealing")
    with private_files.open_private(temporary, "wb") as target:
        target.write(MAGIC)
        while piece := _read_piece(source):
            digest.update(piece)
            token = protector.encrypt_file(piece)
            target.write(_LENGTH.pack(len(token)) + token)
    temporary.replace(path)
    return digest.hexdigest()


def _read_piece(source: BinaryIO) -> bytes:
    # read(n) of a pipe or socket may return less than n before the end: pieces must all be full but the last.
    piece = source.read(PIECE_BYTES)
    while piece and len(piece) < PIECE_BYTES and (more := source.read(PIECE_BYTES - len(piece))):
        piece += more
    return piece


def open_sealed(path: Path, protector) -> BinaryIO:
    """The plaintext as a seekable binary file. FileNotFoundError when gone; the protector's InvalidToken
    when it was sealed under another key (found at once: the first and last pieces are opened here)."""
    handle = path.open("rb")
    try:
        if handle.read(len(MAGIC)) != MAGIC:
            handle.seek(0)
            return io.BytesIO(protector.decrypt_file(handle.read()))
        return io.BufferedReader(_SealedReader(handle, protector), buffer_size=64 * 1024)
    except BaseException:
        handle.close()
        raise


class _SealedReader(io.RawIOBase):
    """Random access to a sealed file, one decrypted piece in memory at a time."""

    def __init__(self, handle: BinaryIO, protector):
        super().__init__()
        self._handle, self._protector = handle, protector
        self._pieces: list[tuple[int, int]] = []  # (offset of the token, its length)
        while header := handle.read(_LENGTH.size):
            (length,) = _LENGTH.unpack(header)
            self._pieces.append((handle.tell(), length))
            handle.seek(length, io.SEEK_CUR)
        self._cached: tuple[int, bytes] = (-1, b"")
        last = len(self._piece(len(self._pieces) - 1)) if self._pieces else 0
        self._size = max(len(self._pieces) - 1, 0) * PIECE_BYTES + last
        self._position = 0

    def _piece(self, index: int) -> bytes:
        if self._cached[0] != index:
            offset, length = self._pieces[index]
            self._handle.seek(offset)
            self._cached = (index, self._protector.decrypt_file(self._handle.read(length)))
        return self._cached[1]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def readinto(self, buffer) -> int:
        if self._position >= self._size:
            return 0
        index, start = divmod(self._position, PIECE_BYTES)
        piece = self._piece(index)
        count = min(len(buffer), len(piece) - start)
        buffer[:count] = piece[start:start + count]
        self._position += count
        return count

    def close(self) -> None:
        self._handle.close()
        self._cached = (-1, b"")
        super().close()
