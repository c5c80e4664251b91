#!/usr/bin/env python3
"""Writes tests/data/malformed: one malformed input per file, and expected.tsv with the line and a
substring of the ParseError each must raise. Rerun: python3 scripts/make_malformed.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
D = os.path.join(HERE, "..", "tests", "data", "malformed")
os.makedirs(D, exist_ok=True)
MM = "%%MatrixMarket matrix coordinate real general\n"


def npy(header, data):
    h = header.encode()
    total = 10 + len(h) + 1
    h += b" " * ((64 - total % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data


cases = [
    # name, content, line (0: not tied to a line), message substring
    ("empty.mtx", "", 1, "empty file"),
    ("no_banner.mtx", "3 3 1\n1 1 1.0\n", 1, "missing %%MatrixMarket"),
    ("bad_object.mtx", "%%MatrixMarket vector coordinate real general\n1 1 1\n1 1 1\n", 1, "unsupported object"),
    ("bad_format.mtx", "%%MatrixMarket matrix sparse real general\n", 1, "coordinate or array"),
    ("bad_field.mtx", "%%MatrixMarket matrix coordinate quaternion general\n", 1, "unknown field"),
    ("complex.mtx", "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n", 1, "complex"),
    ("bad_symmetry.mtx", "%%MatrixMarket matrix coordinate real diagonal\n", 1, "unknown symmetry"),
    ("short_banner.mtx", "%%MatrixMarket matrix coordinate real\n", 1, "needs 4 words"),
    ("no_size.mtx", MM + "% only comments\n", 3, "before the size line"),
    ("negative_size.mtx", MM + "-3 3 1\n1 1 1\n", 2, "negative size"),
    ("missing_nnz.mtx", MM + "3 3\n1 1 1\n", 2, "bad or missing number"),
    ("junk_size.mtx", MM + "3 3 1 7\n1 1 1\n", 2, "after the sizes"),
    ("absurd_size.mtx", MM + "1000000000 1000000000 900000000000\n1 1 1\n", 2, "bytes follow"),
    ("too_many_for_shape.mtx", MM + "2 2 5\n1 1 1\n1 2 1\n2 1 1\n2 2 1\n1 1 1\n", 2, "cannot fit"),
    ("overflow_size.mtx", MM + "9223372036854775807 9223372036854775807 1\n1 1 1\n", 2, "overflows"),
    ("huge_number.mtx", MM + "99999999999999999999999 3 1\n1 1 1\n", 2, "bad or missing number"),
    ("row_out_of_range.mtx", MM + "3 3 2\n1 1 1.0\n4 1 2.0\n", 4, "outside the 1-based 3 x 3"),
    ("zero_index.mtx", MM + "3 3 1\n0 1 1.0\n", 3, "outside"),
    ("negative_index.mtx", MM + "3 3 1\n% c\n1 -2 1.0\n", 4, "outside"),
    ("bad_value.mtx", MM + "3 3 2\n1 1 1.0\n2 2 abc\n", 4, "bad value 'abc'"),
    ("nan_value.mtx", MM + "3 3 2\n1 1 1.0\n2 2 nan\n", 4, "not finite"),
    ("inf_value.mtx", MM + "3 3 1\n2 2 -Inf\n", 3, "not finite"),
    ("overflow_value.mtx", MM + "3 3 1\n2 2 1e999\n", 3, "not finite"),
    ("missing_value.mtx", MM + "3 3 1\n2 2\n", 3, "bad value"),
    ("extra_token.mtx", MM + "3 3 1\n2 2 1.0 5\n", 3, "after the entry"),
    ("float_index.mtx", MM + "3 3 1\n2.5 2 1.0\n", 3, "bad row index"),
    ("integer_field_real.mtx", "%%MatrixMarket matrix coordinate integer general\n3 3 1\n2 2 1.5\n", 3, "bad value"),
    ("too_few.mtx", MM + "3 3 3\n1 1 1.0\n2 2 1.0\n", 5, "2 of 3 entries"),
    ("too_many.mtx", MM + "3 3 2\n1 1 1.0\n2 2 1.0\n\n3 3 1.0\n", 6, "more entries"),
    ("truncated.mtx", MM + "3 3 2\n1 1 1.0\n2 2", 4, "bad value"),
    ("upper_in_symmetric.mtx", "%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n1 2 1.0\n", 3, "above the diagonal"),
    ("diag_in_skew.mtx", "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 1\n2 2 1.0\n", 3, "strictly below"),
    ("nonsquare_symmetric.mtx", "%%MatrixMarket matrix coordinate real symmetric\n3 4 1\n2 1 1.0\n", 2, "must be square"),
    ("array_pattern.mtx", "%%MatrixMarket matrix array pattern general\n2 2\n", 1, "pattern"),
    ("array_too_few.mtx", "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n", 6, "3 of 4 values"),
    ("array_too_many.mtx", "%%MatrixMarket matrix array real general\n1 2\n1\n2\n3\n", 5, "more values"),
    ("array_bad_value.mtx", "%%MatrixMarket matrix array real general\n1 2\n1\nx\n", 4, "bad value"),
    ("binary_garbage.mtx", MM.encode() + b"2 2 1\n\x00\xff\xfe 1 1\n", 3, "bad row index"),
    ("bad_label.svm", "1 1:2\nfoo 1:2\n", 2, "bad label"),
    ("bad_pair.svm", "1 1:2 3\n", 1, "expected index:value"),
    ("bad_feature_value.svm", "1 1:2 2:x\n", 1, "bad value"),
    ("nan_feature.svm", "1 1:2\n0 4:nan\n", 2, "not finite"),
    ("decreasing.svm", "1 3:2 2:1\n", 1, "must increase"),
    ("negative_feature.svm", "1 -3:2\n", 1, "negative feature index"),
    ("ragged.csv", "1,2,3\n4,5\n", 2, "expected 3"),
    ("text_in_body.csv", "a,b\n1,2\n3,x\n", 3, "not a number"),
    ("inf.csv", "1,2\n3,inf\n", 2, "not finite"),
    ("bad_magic.npy", b"NUMPY\x01\x00\x10\x00{}", 0, "bad magic"),
    ("bad_version.npy", b"\x93NUMPY\x07\x00\x10\x00" + b" " * 16, 0, "unsupported .npy version"),
    ("truncated_header.npy", b"\x93NUMPY\x01\x00\xff\x00{'descr'", 0, "truncated .npy header"),
    # Integer, bool and half arrays are read (exactly); complex and strings are not, nor a half Inf.
    ("complex_dtype.npy", npy("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", b"\0" * 32), 0, "unsupported dtype"),
    ("string_dtype.npy", npy("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", b"\0" * 12), 0, "unsupported dtype"),
    ("half_inf.npy", npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", b"\x00\x3c\x00\x7c"), 0, "Inf"),
    ("inexact_int.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", struct.pack("<q", 2**53 + 1)), 0, "not exactly representable"),
    ("bool_two.npy", npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", b"\x01\x02"), 0, "bool array is 2"),
    ("missing_value.csv", "a,b\n1,2\n3,\n", 3, "missing value"),
    ("first_row_missing.csv", "1,,3\n4,5,6\n", 1, "missing value"),
    ("nan_field.csv", "1,2\n3,NaN\n", 2, "NaN"),
    ("truncated_data.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", b"\0" * 24), 0, "(truncated)"),
    ("trailing_data.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", b"\0" * 24), 0, "(trailing bytes)"),
    ("three_d.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }", b"\0" * 8), 0, "not 1-D or 2-D"),
    ("nan.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", struct.pack("<dd", 1.0, float("nan"))), 0, "NaN at row"),
]

with open(os.path.join(D, "expected.tsv"), "w") as manifest:
    manifest.write("# file\tline\tsubstring of the ParseError (line 0: not tied to a line)\n")
    for name, content, line, sub in cases:
        data = content if isinstance(content, bytes) else content.encode()
        with open(os.path.join(D, name), "wb") as f:
            f.write(data)
        manifest.write(f"{name}\t{line}\t{sub}\n")
print(f"wrote {len(cases)} malformed files to {os.path.normpath(D)}")
