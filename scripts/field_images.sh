#!/usr/bin/env bash
# The pictures of docs/science.md §12-13 (velocity field, K classes), made by the app's own
# commands: `nndyn train` the presets, then `nndyn render` (under Xvfb for the 3-D one).
#     bash scripts/field_images.sh [OUT_DIR]      (default docs/img; about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/img}
BIN=.venv/bin
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
train() { "$BIN/nndyn" train --preset "$1" "${@:3}" --out "$TMP/$2.nndyn" --quiet; }
render() { bash scripts/with-x.sh "$BIN/nndyn" render "$TMP/$1.nndyn" --force --quiet "${@:2}"; }

train resnet-w2-ring-tied tied1 --set train.seed=1
train resnet-w2-ring-tied tied0
train resnet-w2-spiral3 spiral3-w2
train resnet-w3-spiral3 spiral3-w3

render tied1 --field --layers 0 --size 900x760 --title "tied ResNet, ring (train.seed 1): input" \
    --out "$OUT/field-ring-tied-input.png"
render tied1 --field --layers 30 --size 900x760 --title "tied ResNet, ring (train.seed 1): layer 30" \
    --out "$OUT/field-ring-tied-layer30.png"
render tied0 --field --layers 0 --size 900x760 --title "tied ResNet, ring (train.seed 0): input" \
    --out "$OUT/field-ring-tied-seed0.png"
render spiral3-w2 --field --layers 20 --size 900x760 --title "resnet-w2-spiral3: layer 20" \
    --out "$OUT/field-spiral3-w2-layer20.png"
render spiral3-w2 --kind sheet --size 1400x420 --title "resnet-w2-spiral3" \
    --out "$OUT/classes-spiral3-w2-sheet.png"
render spiral3-w3 --size 900x700 --title "resnet-w3-spiral3: output" \
    --out "$OUT/classes-spiral3-w3-3d.png"
