#!/usr/bin/env bash
# Writes the fuzzers' seed corpora, fuzz/corpus/NAME/, from the test data and from files the program
# writes. Usage: scripts/make_fuzz_corpus.sh PATH/TO/shrink
# The checkpoint and model seeds are stored without their closing 8-byte checksum: the harnesses
# append the right one, so that mutations reach the parser behind it.
set -euo pipefail
shrink=$(realpath "$1")
cd "$(dirname "$0")/.."
out=fuzz/corpus
data=tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"/{matrix_market,svmlight,npy,npz,csv,sae_checkpoint,lasso_model,bsr_prune,cli_options,cli_values}

cp "$data"/golden/*.mtx "$out"/matrix_market/
printf '%%%%MatrixMarket matrix coordinate real general\n3000000000 3 2\n1 1 1.0\n2999999999 3 2.0\n' \
  >"$out"/matrix_market/tall_hostile.mtx
cp "$data"/golden/*.svm "$out"/svmlight/
printf '1 1:0.5 3:2\n-1 qid:2 2:1e-3\n# comment\n0 \n' >"$out"/svmlight/labels_qid.svm
cp "$data"/golden/*.npy "$data"/user/{big_endian,bool,float32_fortran,int16,uint8}.npy "$out"/npy/
cp "$data"/user/*.npz "$out"/npz/
cp "$data"/user/{crlf_quoted,pandas_frame,pandas_named,pandas_semicolon,pandas_tab,savetxt_space}.csv "$out"/csv/

# A CSV problem for the model and the checkpoint.
python3 - "$tmp" <<'PY'
import random, sys
random.seed(7)
d = sys.argv[1]
with open(f"{d}/x.csv", "w") as fx, open(f"{d}/y.csv", "w") as fy:
    fx.write("a,b,c,d\n")
    for i in range(24):
        r = [round(random.gauss(0, 1), 3) for _ in range(4)]
        fx.write(",".join(map(str, r)) + "\n")
        fy.write(f"{2 * r[0] - r[2] + 0.1 * random.gauss(0, 1):.4f}\n")
PY
strip_checksum() { head -c -8 "$1" >"$2"; }
"$shrink" lasso "$tmp/x.csv" "$tmp/y.csv" --n-lambdas 6 --save-model "$tmp/path.model" >/dev/null
"$shrink" lasso "$tmp/x.csv" "$tmp/y.csv" --n-lambdas 5 --cv 3 --save-model "$tmp/cv.model" >/dev/null
strip_checksum "$tmp/path.model" "$out"/lasso_model/path.model
strip_checksum "$tmp/cv.model" "$out"/lasso_model/cv.model
"$shrink" sae train "$tmp/x.csv" --latents 6 --activation topk --k 2 --epochs 1 --out "$tmp/topk.sae" >/dev/null 2>&1
"$shrink" sae train "$tmp/x.csv" --latents 4 --activation relu-l1 --epochs 1 --score reconstruction \
  --out "$tmp/relu.sae" >/dev/null 2>&1
"$shrink" sae train "$tmp/x.csv" --latents 6 --k 2 --epochs 1 --neighbors 3 --out "$tmp/neighbors.sae" >/dev/null 2>&1
strip_checksum "$tmp/topk.sae" "$out"/sae_checkpoint/topk.sae
strip_checksum "$tmp/relu.sae" "$out"/sae_checkpoint/relu.sae
strip_checksum "$tmp/neighbors.sae" "$out"/sae_checkpoint/neighbors.sae

# bsr_prune: shape bytes (rows, cols, block rows, block cols, sparsity, norm), float values, then raw BSR.
python3 - "$out/bsr_prune" <<'PY'
import random, struct, sys
random.seed(11)
d = sys.argv[1]
for name, (r, c, bh, bw, s, norm) in {"four_by_six": (4, 6, 2, 3, 64, 1), "ragged": (7, 5, 3, 2, 100, 2),
                                      "dense_l1": (8, 8, 4, 4, 0, 0)}.items():
    vals = b"".join(struct.pack("<f", random.gauss(0, 1)) for _ in range(r * c))
    raw = bytes([2, 3, 1, 0]) + struct.pack("<hh", 4, 4) + bytes([0, 2, 3, 0, 1, 1])
    raw += b"".join(struct.pack("<f", random.gauss(0, 1)) for _ in range(6))
    open(f"{d}/{name}", "wb").write(bytes([r, c, bh, bw, s, norm]) + vals + raw)
PY

# cli_options: command lines, one token per line.
printf 'lasso\nx.csv\ny.csv\n--lambda-min-ratio\n1e-3\n--n-lambdas\n50\n--cv\n5\n--max-memory\n1.5G\n' >"$out"/cli_options/lasso
printf 'sae\ntrain\nx.npy\n--latents\n64\n--k\n8\n--lr\n3e-4\n--epochs\n2\n--adam-betas\n0.9,0.999\n' >"$out"/cli_options/sae
printf 'prune\nw.npy\n--block\n4x4\n--sparsity\n0.75\n--norm\nl1\n' >"$out"/cli_options/prune
printf 'spmv\na.mtx\n--repeat\n3\n--threads\n2\n--precision\nf32\n' >"$out"/cli_options/spmv
printf 'distill\nw1.npy\nw2.npy\n--inputs\nx.npy\n--block\n2\n--steps\n100\n' >"$out"/cli_options/distill
# cli_values: a byte choosing the parser (fuzz/harnesses.cpp), then the text.
v="$out"/cli_values
printf '\x00''1.5G' >"$v"/memory; printf '\x01''4x8' >"$v"/block; printf '\x08''#2' >"$v"/solution
printf '\x0a''1e-3' >"$v"/positive; printf '\x0c''1000' >"$v"/steps; printf '\x0e''0.9,0.999' >"$v"/betas
printf '\x02''ws-gram' >"$v"/solver; printf '\x09''out.npz' >"$v"/format
echo "wrote $(find "$out" -type f | wc -l) seeds, $(du -sh "$out" | cut -f1)"
