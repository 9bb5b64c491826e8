"""The networks' weights: where they are, whether they are the right bytes, fetching them.

- `manifest`: the manifest of the official files, resolving a weights directory (custom
  checkpoints with a sidecar config, fallbacks) and verifying sizes and sha256
  (`WeightsError`).
- `download`: fetching the official files, resumable, verified, atomic.
- `checkpoint`: reading a checkpoint's state dict into a network strictly.

Import the modules themselves: this package imports nothing.
"""
