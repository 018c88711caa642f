"""The duplicate index of an import: the first row of each digest, exact, in a few bytes a key."""
import hashlib
import tracemalloc

from registry.core.first_rows import FirstRows


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_repeated_digest_answers_its_first_row_through_growth():
    index = FirstRows()
    for row in range(2, 5002):
        assert index.claim(row, digest(f"p{row}")) == row
    assert [index.claim(9000 + row, digest(f"p{row}")) for row in (2, 1000, 5001)] == [2, 1000, 5001]
    assert index.claim(9999, digest("nobody yet")) == 9999 and len(index) == 5001


def test_digests_sharing_their_first_64_bits_are_still_different_keys():
    index = FirstRows()
    shared = "0123456789abcdef"
    first, second = shared + "0" * 48, shared + "f" * 48
    assert index.claim(2, first) == 2
    assert index.claim(3, second) == 3  # a dict of prefixes would call row 3 a repeat of row 2
    assert index.claim(4, second) == 3 and index.claim(5, first) == 2


def test_a_hundred_thousand_keys_take_a_few_megabytes():
    digests = [digest(f"p{row}") for row in range(100_000)]
    tracemalloc.start()
    try:
        index = FirstRows()
        for row, key in enumerate(digests, 2):
            index.claim(row, key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 1024 * 1024, peak  # a dict of the digests: ≈ 20 MB
