"""Sealed files: an upload encrypted piece by piece reads back byte for byte, seeks as a zip reader needs,
and neither sealing nor reading holds the file whole."""
import io
import os
import tracemalloc

import openpyxl
import pytest
from cryptography.fernet import Fernet, InvalidToken

from registry.core import sealed_files
from registry.core.sealed_files import PIECE_BYTES, open_sealed, seal
from registry.core.spreadsheets import Column, open_sheet


class Protector:
    """The two methods of the app's DocumentProtector a sealed file uses."""

    def __init__(self):
        self.fernet = Fernet(Fernet.generate_key())

    def encrypt_file(self, data: bytes) -> bytes:
        return self.fernet.encrypt(data)

    def decrypt_file(self, token: bytes) -> bytes:
        return self.fernet.decrypt(token)


@pytest.fixture
def protector():
    return Protector()


@pytest.mark.parametrize("size", [0, 1, PIECE_BYTES - 1, PIECE_BYTES, 2 * PIECE_BYTES + 17])
def test_a_sealed_file_reads_back_whole_and_from_anywhere(tmp_path, protector, size):
    data = os.urandom(size)
    path = tmp_path / "upload"
    digest = seal(io.BytesIO(data), path, protector)
    assert digest == __import__("hashlib").sha256(data).hexdigest()
    with open_sealed(path, protector) as upload:
        assert upload.read() == data
        for position in {0, size // 2, max(size - 3, 0), PIECE_BYTES - 2, size}:
            upload.seek(position)
            assert upload.read(5) == data[position:position + 5]
        assert upload.seek(-1, io.SEEK_END) == max(size - 1, 0)


def test_the_file_on_disk_holds_no_plaintext_and_another_key_cannot_open_it(tmp_path, protector):
    path = tmp_path / "upload"
    seal(io.BytesIO("证件号码,姓名\n410221199001011234,张三\n".encode() * 20_000), path, protector)
    stored = path.read_bytes()
    assert "410221199001011234".encode() not in stored and "张三".encode() not in stored
    with pytest.raises(InvalidToken):
        open_sealed(path, Protector())


def test_a_file_sealed_whole_by_the_versions_before_still_opens(tmp_path, protector):
    path = tmp_path / "upload"
    path.write_bytes(protector.encrypt_file(b"a,b\n1,2\n"))
    with open_sealed(path, protector) as upload:
        assert upload.read() == b"a,b\n1,2\n"


def test_an_xlsx_is_read_through_the_seal(tmp_path, protector):
    workbook = openpyxl.Workbook()
    workbook.active.append(["编号", "姓名"])
    for number in range(1, 3001):
        workbook.active.append([str(number), f"学员{number}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    path = tmp_path / "upload"
    seal(buffer, path, protector)
    columns = [Column("number", "编号"), Column("name", "姓名")]
    with open_sealed(path, protector) as upload:
        rows = list(open_sheet(upload, "a.xlsx", columns).rows())
    assert len(rows) == 3000 and rows[-1] == (3001, {"number": "3000", "name": "学员3000"})


def test_sealing_and_reading_a_large_csv_stays_small(tmp_path, protector):
    rows = 200_000
    path, source = tmp_path / "upload", tmp_path / "source.csv"
    with source.open("wb") as handle:
        handle.write("证件号码,姓名\r\n".encode())
        for number in range(rows):
            handle.write(f"4102211990{number:08d},学员{number}\r\n".encode())
    assert source.stat().st_size > 6 * 1024 * 1024
    tracemalloc.start()
    try:
        with source.open("rb") as handle:
            seal(handle, path, protector)
        with open_sealed(path, protector) as upload:
            sheet = open_sheet(upload, "a.csv", [Column("number", "证件号码"), Column("name", "姓名")],
                               max_bytes=64 * 1024 * 1024)
            seen = sum(1 for _ in sheet.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == rows == sheet.total_rows
    assert peak < 4 * 1024 * 1024, peak  # a few pieces at a time; the file itself is larger than this


def test_a_partial_read_source_still_gives_full_pieces(tmp_path, protector):
    class Trickle(io.RawIOBase):
        """A pipe-like source: each read hands out at most 1,000 bytes."""

        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def read(self, size=-1):
            return self.data.read(min(size, 1000))

    data = os.urandom(PIECE_BYTES + 5000)
    path = tmp_path / "upload"
    seal(Trickle(data), path, protector)
    with open_sealed(path, protector) as upload:
        upload.seek(PIECE_BYTES + 10)
        assert upload.read(10) == data[PIECE_BYTES + 10:PIECE_BYTES + 20]
    assert sealed_files.MAGIC == path.read_bytes()[:len(sealed_files.MAGIC)]
