"""A pure reader for the idx format of MNIST and Fashion-MNIST (plain or gzip-compressed).

The format (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number ``0, 0, type, ndim``,
then ``ndim`` big-endian uint32 sizes, then the values in C order, big-endian. Keras' own
parser skips the header with a fixed offset; this one reads and checks it, so a truncated
or mislabelled file fails with a message instead of returning garbage.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from invariance.errors import InvarianceError
from invariance.io import atomic_path

# type code -> big-endian dtype of the values
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | os.PathLike) -> bytes:
    """Returns the file's bytes, gunzipped when the file starts with the gzip magic."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head == _GZIP_MAGIC:
                with gzip.GzipFile(fileobj=fh) as gz:
                    return gz.read()
            return fh.read()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise InvarianceError(f"{path}: cannot read idx file ({err})") from None


def parse_idx(data: bytes, *, name: str = "<bytes>") -> np.ndarray:
    """Parses idx bytes into an array.

    Args:
        data: The whole (uncompressed) file.
        name: Shown in error messages.

    Returns:
        A read-only array with the shape from the header, e.g. (N, 28, 28) for images or
        (N,) for labels; uint8 for type 0x08 (as keras' parser gives), otherwise the
        native-endian form of the stored type.

    Raises:
        InvarianceError: If the magic number, type code or length is wrong.
    """
    if len(data) < 4:
        raise InvarianceError(f"{name}: not an idx file: needs a 4-byte magic number; received {len(data)} bytes")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise InvarianceError(
            f"{name}: not an idx file: the magic number must start with two zero bytes; "
            f"received {data[:4].hex()}")
    if code not in IDX_DTYPES:
        allowed = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise InvarianceError(f"{name}: idx type code must be one of {allowed}; received 0x{code:02X}")
    if ndim < 1:
        raise InvarianceError(f"{name}: idx number of dimensions must be >= 1; received {ndim}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise InvarianceError(f"{name}: idx header needs {header} bytes; received {len(data)} bytes")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise InvarianceError(
            f"{name}: idx shape {shape} of {dtype.name} needs {expected} bytes; received {len(data)} bytes "
            "(truncated or corrupt file)")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
        array.flags.writeable = False
    elif code == 0x08:
        array = array.view(np.uint8)
    return array


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an idx file (``.gz`` or plain); see :func:`parse_idx` for the result."""
    return parse_idx(read_bytes(path), name=str(path))


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Writes ``array`` as an idx file (gzip when ``compress`` or the name ends in ``.gz``).

    Used by tests and by anyone exporting data in the MNIST layout.
    """
    path = Path(path)
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise InvarianceError(f"array dtype must be one of {sorted(str(d) for d in codes)}; received {array.dtype}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    with atomic_path(path) as tmp:
        tmp.write_bytes(gzip.compress(payload) if compress else payload)
