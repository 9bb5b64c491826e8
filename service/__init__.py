"""What the bot and the workers both stand on, so that neither depends on the other.

- `service.settings`: the fields every process reads (the Bot API, Redis, logging, the
  recording limits both sides enforce), the one loader that stops at start with a line naming
  a bad variable, and the one log set-up.
- `service.embedded_redis`: a Redis-compatible server from PyPI for `make run` and the tests.
- `service.local`: the `make run` launcher, which starts the bot and a worker as processes
  (by module name: it imports neither).

Nothing here imports `bot`, `worker`, `storage` or `sv2tts`.
"""
