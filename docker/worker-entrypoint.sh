#!/bin/sh
# The worker container's entrypoint: make sure the model weights are present, then run the
# command (`python -m worker` by default).
#
# `python -m sv2tts download` fetches only what is missing, resumes a partial file, checks
# size and sha256 before renaming it into place, and holds a lock in the weights directory, so
# workers that start together on one volume download once and the others wait. On later
# starts the files are there and it returns at once. If it fails (no network, a bad file), the
# container exits and the restart policy tries again; the worker never runs on bad weights.
# -v logs each file as it is waited for, resumed and verified; a progress bar would only fill
# the container log with carriage returns.
set -eu

python -m sv2tts download --no-progress -v --weights-dir "${SV2TTS_WEIGHTS_DIR:-/weights}"
exec "$@"
