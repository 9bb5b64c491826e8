"""The worker's benchmark, apart from the job code: `python -m worker.bench` (__main__.py) runs
synth jobs through real worker processes; `sink.py` is the Bot API they upload to, `weights.py`
the models they run. Nothing the worker runs imports it."""
