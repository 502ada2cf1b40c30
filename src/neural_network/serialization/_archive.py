"""The zip archive of a model file, checked before anything in it is read.

A zip file can declare anything: entries of terabytes, compressed a thousandfold,
encrypted, or listed twice. So the zip directory is checked first: only uncompressed,
unencrypted ``.npy`` entries, each lying inside the file. Then each entry's ``.npy``
header (at most a few kilobytes) is read and checked against the shape and dtype that
the JSON document expects, and its declared size must be exactly what that shape and
dtype take. Only then is an array read, so a model file never makes loading allocate
more memory than the file itself holds.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from types import TracebackType
from typing import IO, Any

import numpy as np

from neural_network.errors import InvalidInputError, ShapeMismatchError
from neural_network.serialization._format import MAX_DOCUMENT_BYTES, MODEL_ENTRY, AnyArray, Source

_SUFFIX = ".npy"
_REFUSED_FLAGS = ((0x1, "encrypted"), (0x40, "strongly encrypted"), (0x20, "a patch"))
"""Zip flag bits that save never sets, none of which zipfile can read without more than the file."""
_METHODS = {zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error)

Header = tuple[tuple[int, ...], np.dtype[Any], int]
"""What an entry's ``.npy`` header declares: shape, dtype, and the header's own size in bytes."""


def not_a_model(source: Source, detail: str) -> InvalidInputError:
    return source.error(
        f"not a neural_network model file or truncated: expected an .npz archive written by "
        f"save; {detail}. Check that the file was copied completely, or save the model again."
    )


class Archive:
    """The entries of a model file's archive, by array name (without ``.npy``).

    Opening checks the zip directory. :meth:`check` checks an entry's ``.npy`` header and
    size; :meth:`read` reads an entry, which must have been checked first.
    """

    def __init__(self, source: Source, file: IO[bytes]) -> None:
        self._source = source
        try:
            self._zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
            raise not_a_model(source, f"zip cannot open it ({exc})") from None
        try:
            self._entries = self._check_directory(os.fstat(file.fileno()).st_size)
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._zip.close()

    @property
    def names(self) -> set[str]:
        """The names of the arrays, the JSON document's entry included."""
        return set(self._entries)

    # ----------------------------------------------------------------------- the directory

    def _check_directory(self, file_size: int) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        names = [info.filename for info in infos]
        if MODEL_ENTRY + _SUFFIX not in names:
            raise self._source.error(
                f"not a neural_network model file: expected an entry {MODEL_ENTRY!r} in the .npz "
                f"archive; got the entries {[name.removesuffix(_SUFFIX) for name in names]}. Write "
                "model files with model.save(path), not np.savez."
            )
        for info in infos:
            self._check_info(info, file_size)
        declared = sum(info.compress_size for info in infos)
        if declared > file_size:
            raise self._source.error(
                f"its entries declare {declared} bytes in all, more than the whole file's {file_size}: "
                "they overlap, which save never writes. The file was crafted or damaged; use an "
                "intact copy."
            )
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            raise self._source.error(
                f"the archive lists the entries {twice} more than once; save writes each entry "
                "once. The file was altered after it was saved; use an intact copy."
            )
        return {info.filename.removesuffix(_SUFFIX): info for info in infos}

    def _check_info(self, info: zipfile.ZipInfo, file_size: int) -> None:
        """Refuse an entry that save would not write, or whose declared sizes cannot be true."""
        where = f"the entry {info.filename!r}"
        if not info.filename.endswith(_SUFFIX):
            raise self._source.error(
                f"{where} is not a .npy array; a model file holds only .npy entries. The file "
                "was altered after it was saved: save the model again, or use an intact copy."
            )
        for bit, what in _REFUSED_FLAGS:
            if info.flag_bits & bit:
                raise self._source.error(
                    f"{where} is {what} (zip flag {bit:#x}); save writes plain entries, and load "
                    "takes no password. Use the file as save wrote it, or save the model again."
                )
        if info.compress_type != zipfile.ZIP_STORED:
            method = _METHODS.get(info.compress_type, f"method {info.compress_type}")
            raise self._source.error(
                f"{where} is compressed ({method}); expected it stored uncompressed, as save writes "
                "every entry, so that its size is known before it is read. Save the model again "
                "with model.save(path), or repack the archive uncompressed (zip -0)."
            )
        if info.compress_size != info.file_size:
            raise self._source.error(
                f"{where} declares {info.file_size} bytes but stores {info.compress_size}; an "
                "uncompressed entry stores exactly its size. The file is damaged or was altered; "
                "use an intact copy."
            )
        if info.header_offset + info.compress_size > file_size:
            raise self._source.error(
                f"{where} declares {info.file_size} bytes from byte {info.header_offset}, past the "
                f"end of the file ({file_size} bytes). The file is truncated or was altered; use "
                "an intact copy."
            )

    # ----------------------------------------------------------------------- the entries

    def check(self, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        """Refuse the entry ``name`` unless its header and size are those of ``shape`` and ``dtype``."""
        found_shape, found_dtype, header_size = self._header(name)
        if found_dtype.hasobject:
            raise self._source.error(
                f"the entry {name!r} holds Python objects that only pickle could read. Loading never "
                "unpickles (a pickle can run any code), and save never writes such entries: this "
                "file was not written by save."
            )
        if found_dtype.str != dtype.str:
            raise self._source.error(
                f"the array {name!r} has dtype {found_dtype.str!r} but the table records {dtype.str!r}. "
                "The file was altered after it was saved."
            )
        if found_shape != shape:
            raise self._source.error(
                f"the array {name!r} has shape {found_shape} but the table records {shape}. "
                "The file was altered after it was saved.",
                ShapeMismatchError,
            )
        self._check_size(name, header_size + math.prod(shape) * dtype.itemsize)

    def read_document(self) -> bytes:
        """The bytes of the JSON document, once its entry is checked to hold at most
        :data:`MAX_DOCUMENT_BYTES` of them."""
        shape, dtype, header_size = self._header(MODEL_ENTRY)
        if dtype != np.uint8 or len(shape) != 1:
            raise self._source.error(
                f"the entry {MODEL_ENTRY!r} must be a 1-D array of bytes (uint8); it declares "
                f"shape {shape} and dtype {dtype}. The file was not written by save."
            )
        if shape[0] > MAX_DOCUMENT_BYTES:
            raise self._source.error(
                f"the entry {MODEL_ENTRY!r} declares a JSON document of {shape[0]} bytes; save "
                f"writes at most {MAX_DOCUMENT_BYTES} ({MAX_DOCUMENT_BYTES // 2**20} MiB), and "
                "loading reads no more. The file was altered or not written by save."
            )
        self._check_size(MODEL_ENTRY, header_size + shape[0])
        return self.read(MODEL_ENTRY).tobytes()

    def read(self, name: str) -> AnyArray:
        """The array in the entry ``name``, which :meth:`check` has accepted."""
        try:
            with self._zip.open(self._entries[name]) as member:
                return np.lib.format.read_array(member, allow_pickle=False)
        except _READ_ERRORS as exc:
            raise self._corrupted(name, exc) from None

    def _header(self, name: str) -> Header:
        """The entry's ``.npy`` header, read alone (NumPy refuses one over 10,000 bytes)."""
        try:
            with self._zip.open(self._entries[name]) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ValueError(
                        f"its .npy format version {version} is not 1.0 or 2.0, which save writes"
                    )
                return shape, dtype, member.tell()
        except _READ_ERRORS as exc:
            raise self._corrupted(name, exc) from None

    def _check_size(self, name: str, expected: int) -> None:
        declared = self._entries[name].file_size
        if declared != expected:
            raise self._source.error(
                f"the entry {name!r} declares {declared} bytes, but its .npy header and the array "
                f"it describes take {expected}, as save writes them. The file was altered after "
                "it was saved; use an intact copy."
            )

    def _corrupted(self, name: str, exc: Exception) -> InvalidInputError:
        return self._source.error(
            f"the entry {name!r} is truncated or corrupted ({exc}). Use an intact copy of the file."
        )
