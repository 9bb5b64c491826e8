"""The Telegram side: aiogram routers, middlewares and texts. Never imports torch."""
