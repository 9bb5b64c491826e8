"""The worker's side of the queue: what works on RQ's own Redis keys and on the delivery keys
beside them (worker/api/keys.py).

- `resident`: the RQ worker class (models resident, no fork) and its housekeeping thread;
- `delivery`: leases with fencing, the upload mark, settling once, the audio kept for a retry;
- `recovery`: the jobs of dead workers back on the queue, atomically;
- `presence`: the readiness heartbeats the bot counts;
- `revocation`: the checks of the marks that void queued work;
- `failures`: which failures keep their retries, and the answer to a request that failed.

The bot's calls on the same keys are the contract's (worker/api/calls.py); this package
imports the contract, never the reverse.
"""
