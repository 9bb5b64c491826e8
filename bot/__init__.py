"""The Telegram side: aiogram routers, filters, middlewares and texts. Never imports torch."""
