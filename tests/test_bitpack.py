import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_stream.codecs.bitpack import pack_symbols, packed_size, unpack_symbols


@pytest.mark.parametrize("codebook_size", [256, 512, 1024, 2048])
def test_vq_grid_round_trip_and_exact_size(codebook_size):
    bits = int(np.log2(codebook_size))
    symbols = np.random.default_rng(codebook_size).integers(0, codebook_size, size=16 * 16)
    data = pack_symbols(symbols, bits)
    assert len(data) == 16 * 16 * bits // 8  # K = 256 costs exactly 256 bytes
    assert np.array_equal(unpack_symbols(data, bits, symbols.size), symbols)


@settings(max_examples=200, deadline=None)
@given(
    bits=st.integers(min_value=1, max_value=32),
    data=st.data(),
)
def test_round_trip_any_width(bits, data):
    values = data.draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=300))
    packed = pack_symbols(values, bits)
    assert len(packed) == packed_size(len(values), bits)
    assert unpack_symbols(packed, bits, len(values)).tolist() == values


def test_short_input_is_zero_padded_not_an_error():
    assert unpack_symbols(b"\xff", 6, 3).tolist() == [63, 48, 0]


def test_out_of_range_symbols_rejected():
    with pytest.raises(ValueError):
        pack_symbols([4], 2)
    with pytest.raises(ValueError):
        pack_symbols([-1], 2)
    with pytest.raises(ValueError):
        pack_symbols([1], 0)
