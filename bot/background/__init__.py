"""What the bot process runs beside the Dispatcher (bot/app.py starts them): the results
consumer (`results.py`: each outcome a worker reports, recorded once), the sweeper
(`sweeper.py`: every request ends) and the Prometheus endpoint (`metrics.py`). The status
board, the fourth, is bot/progress.py: the services queue work onto it too."""
