"""Starting the bot, /start in both languages, the command menu, /help, /language."""

from __future__ import annotations

from pathlib import Path

from tests.bot.conftest import BotHarness


def test_start_sets_the_command_menu_in_english_and_russian(bot: BotHarness) -> None:
    calls = bot.api.calls_of("setMyCommands")
    by_language = {c.params.get("language_code"): c.params["commands"] for c in calls}
    assert set(by_language) == {None, "ru"}
    assert {c["command"] for c in by_language[None]} >= {"say", "voices", "bank", "forget"}
    assert any("голос" in c["description"].lower() for c in by_language["ru"])


def test_start_greets_in_the_users_language(bot: BotHarness) -> None:
    english = bot.send(bot.new_user("en"), "/start").text
    russian = bot.send(bot.new_user("ru"), "/start").text
    other = bot.send(bot.new_user("de"), "/start").text
    assert "Hi!" in english and "/bank" in english
    assert "Привет" in russian and "/bank" in russian
    assert other == english


def test_language_can_be_changed_with_a_button(bot: BotHarness) -> None:
    user = bot.new_user("en")
    assert "interface language" in bot.send(user, "/language").text.lower()
    since = bot.api.mark()
    bot.press(user, "Русский")
    assert "по-русски" in bot.edited(user, since).text
    assert "Как это работает" in bot.send(user, "/help").text


def test_bot_process_never_loads_torch(bot: BotHarness) -> None:
    bot.send(bot.new_user(), "/help")  # it has handled updates by now
    maps = Path(f"/proc/{bot.process.pid}/maps")
    modules = Path(f"/proc/{bot.process.pid}/cmdline")
    assert modules.exists()
    assert "torch" not in maps.read_text()
