"""The bot's services (see bot/app.py)."""
