"""The first row of a file that gave each key (a hex digest), in ≈ 20 bytes a key instead of ≈ 200.

A dict from 64-character digests to row numbers costs ≈ 200 bytes a row in Python objects: 200 MB for a
million-row upload. Here each key is its first 64 bits, kept in an open-addressing table of plain arrays;
the full digests wait in a temporary file and are read back only when the 64 bits match, so two keys that
share them are still told apart: the answer is exact, not probable.
"""
import tempfile
from array import array

_EMPTY = 0
_FIRST_CAPACITY = 1024  # slots; a power of two, kept at most half full
_DIGEST_BYTES = 32


class FirstRows:
    """`claim(row, digest)` → the row that first gave `digest` (this one, if none did before)."""

    def __init__(self):
        self._prefixes = array("Q")  # by entry: the digest's first 64 bits
        self._rows = array("I")  # by entry: its first row
        self._slots = array("I", [_EMPTY]) * _FIRST_CAPACITY  # entry number + 1, or empty
        self._digests = tempfile.TemporaryFile()  # by entry: the whole digest, 32 bytes
        # Row numbers and entries fit 32 bits: a sheet is refused long before (IMPORT_MAX_ROWS).

    def __len__(self) -> int:
        return len(self._rows)

    def claim(self, row: int, digest: str) -> int:
        prefix = int(digest[:16], 16)
        mask = len(self._slots) - 1
        slot = prefix & mask
        while (entry := self._slots[slot]) != _EMPTY:
            if self._prefixes[entry - 1] == prefix and self._digest(entry - 1) == bytes.fromhex(digest):
                return self._rows[entry - 1]
            slot = (slot + 1) & mask
        self._prefixes.append(prefix)
        self._rows.append(row)
        self._digests.write(bytes.fromhex(digest))
        self._slots[slot] = len(self._rows)
        if 2 * len(self._rows) > len(self._slots):
            self._grow()
        return row

    def _digest(self, entry: int) -> bytes:
        position = self._digests.tell()
        self._digests.seek(entry * _DIGEST_BYTES)
        digest = self._digests.read(_DIGEST_BYTES)
        self._digests.seek(position)
        return digest

    def _grow(self) -> None:
        slots = array("I", [_EMPTY]) * (2 * len(self._slots))
        mask = len(slots) - 1
        for entry, prefix in enumerate(self._prefixes, 1):
            slot = prefix & mask
            while slots[slot] != _EMPTY:
                slot = (slot + 1) & mask
            slots[slot] = entry
        self._slots = slots

    def close(self) -> None:
        self._digests.close()
