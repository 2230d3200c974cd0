"""Russian and English: the words of the pages, and dates and money in the reader's locale.

The language is the ``lang`` cookie (the switch on every page) or else the browser's
``Accept-Language``; English when neither asks for Russian. Texts are written in English in
the templates (``_("Clients")``) and looked up here; a text missing from ``RU`` shows in English.
Dates and money are formatted by Babel for the locale (``1 янв. 2026 г.``, ``30 000,00 ₽``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

LANGUAGES = ("en", "ru")

RU: dict[str, str] = {
    "Abonent console": "Абонент — консоль",
    "Clients": "Клиенты",
    "Contracts": "Договоры",
    "Debtors": "Должники",
    "Income": "Доходы",
    "New ticket": "Новая заявка",
    "Tickets": "Заявки",
    "Notifications": "Уведомления",
    "Sign in": "Войти",
    "Sign out": "Выйти",
    "Signed in as": "Вы вошли как",
    "Role": "Роль",
    "Name": "Имя",
    "Search": "Найти",
    "Client name or contract number": "Название клиента или номер договора",
    "Register a client": "Зарегистрировать клиента",
    "Client": "Клиент",
    "Responsible manager": "Ответственный менеджер",
    "Manager's name": "Имя менеджера",
    "Manager's e-mail": "E-mail менеджера",
    "Next page": "Следующая страница",
    "Previous page": "Предыдущая страница",
    "Nothing found.": "Ничего не найдено.",
    "Open a contract": "Открыть договор",
    "Number": "Номер",
    "Title": "Название",
    "Signed on": "Дата подписания",
    "Status": "Статус",
    "active": "действует",
    "terminated": "расторгнут",
    "Periods": "Сервисные периоды",
    "Start": "Начало",
    "End": "Окончание",
    "Cost": "Стоимость",
    "Terms": "Условия оплаты",
    "prepaid": "предоплата",
    "postpaid": "постоплата",
    "Paid": "Оплачено",
    "Owed": "Долг",
    "Due on": "Срок оплаты",
    "paid": "оплачен",
    "not paid": "не оплачен",
    "Payments": "Платежи",
    "Amount": "Сумма",
    "Currency": "Валюта",
    "Paid on": "Дата оплаты",
    "Reference": "Основание",
    "Record a payment": "Записать платёж",
    "Cancel payment": "Отменить платёж",
    "Add a period": "Добавить период",
    "Schedule periods": "Разбить на периоды",
    "Every": "Каждый",
    "month": "месяц",
    "quarter": "квартал",
    "year": "год",
    "Remind on": "Напомнить",
    "Remind days before the end": "Напомнить за дней до окончания",
    "Terminate": "Расторгнуть",
    "Terminate the contract": "Расторгнуть договор",
    "First day without service": "Первый день без обслуживания",
    "Reason": "Причина",
    "Prorate the running period": "Пересчитать текущий период по дням",
    "History": "История",
    "When": "Когда",
    "Who": "Кто",
    "What": "Что",
    "Save": "Сохранить",
    "Coverage today": "Обслуживание сегодня",
    "Coverage on": "Обслуживание на",
    "covered": "обслуживается",
    "unpaid": "есть неоплаченные периоды",
    "not_covered": "не обслуживается",
    "unknown": "неизвестно",
    "Total owed": "Всего долг",
    "days overdue": "дн. просрочки",
    "All contracts": "Все договоры",
    "Period starts from": "Период начинается с",
    "Period starts to": "Период начинается по",
    "Period ends from": "Период заканчивается с",
    "Period ends to": "Период заканчивается по",
    "any": "любой",
    "Filter": "Показать",
    "Prepay debtors": "Должники по предоплате",
    "Postpay debtors": "Должники по постоплате",
    "Download CSV": "Скачать CSV",
    "Download XLSX": "Скачать XLSX",
    "Matched periods": "Подходящие периоды",
    "Debtors on": "Должники на",
    "As at": "На дату",
    "Ageing": "Просрочка",
    "Totals": "Итого",
    "Income by month": "Доходы по месяцам",
    "From month": "С месяца",
    "To month": "По месяц",
    "Month": "Месяц",
    "Due": "Начислено",
    "Received": "Получено",
    "Outstanding": "Не оплачено",
    "Register a ticket": "Зарегистрировать заявку",
    "Choose a client": "Выберите клиента",
    "Registered at": "Время регистрации",
    "Description": "Описание",
    "Override reason": "Причина исключения",
    "Required: this client is not covered and the installation blocks such tickets.": (
        "Обязательно: клиент не обслуживается, и такие заявки без причины не принимаются."
    ),
    "Ticket": "Заявка",
    "Cost specification": "Спецификация стоимости",
    "Item": "Позиция",
    "Quantity": "Количество",
    "Price": "Цена",
    "Line total": "Сумма",
    "Add": "Добавить",
    "Sent": "Отправлено",
    "Recipients": "Получатели",
    "Subject": "Тема",
    "Kind": "Тип",
    "Retry": "Отправить снова",
    "Not available to your role.": "Недоступно для вашей роли.",
    "is not answering": "не отвечает",
    "What still works": "Что работает",
    "Sign in again": "Войдите снова",
    "Your session has ended: sign in again to continue.": "Сеанс завершён: войдите снова, чтобы продолжить.",
    "Development sign-in: a token for the chosen role and name.": (
        "Вход для разработки: токен для выбранной роли и имени."
    ),
    "Sign in with single sign-on": "Войти через единый вход",
    "unknown client": "клиент не найден",
    "Language": "Язык",
    "Client card": "Карточка клиента",
    "Manager": "Менеджер",
    "Warnings": "Предупреждения",
    "Owed periods": "Неоплаченные периоды",
    "No contracts.": "Договоров нет.",
    "Registered": "Зарегистрирована",
    "Billable": "Платная",
    "Back to the client": "К карточке клиента",
    "Not covered": "Не обслуживается",
    "Coverage": "Обслуживание",
    "Period": "Период",
    "Failed": "Ошибка",
    "Sent to": "Кому",
    "failed": "ошибка",
    "sent": "отправлено",
    "pending": "ожидает",
    "skipped_late": "пропущено (опоздало)",
    "The page could not be shown": "Страница не может быть показана",
    "Pages that do not need it": "Страницы, которым он не нужен",
    "Total": "Итого",
    "Cancelled payments": "Отменённые платежи",
    "credit": "переплата",
    "Terminated on": "Расторгнут с",
    "Check the client's coverage": "Проверить обслуживание клиента",
    "Debtors: days overdue": "Должники: дней просрочки",
    "on this page": "на этой странице",
    "Go": "Перейти",
    "The form was not accepted": "Форма не принята",
    "It did not come from a page of this console opened in this session (another site's form, or a page "
    "from before you signed in again). Nothing was saved.": "Она отправлена не со страницы этой консоли, "
    "открытой в этом сеансе (форма другого сайта или страница, открытая до нового входа). Ничего не сохранено.",
    "Go back, reload the page and send the form again.": "Вернитесь, обновите страницу и отправьте форму ещё раз.",
    "Show the history": "Показать историю",
}


EN: dict[str, str] = {
    "not_covered": "not covered",
    "unpaid": "unpaid periods",
}
"""The API's codes shown as words in English (everything else is written in English already)."""


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and q > best_q:
            best, best_q = language, q
    return best


class Texts:
    """``_`` and the formatting filters for one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"
        self.locale = "ru_RU" if self.language == "ru" else "en_GB"

    def __call__(self, text: str) -> str:
        return RU.get(text, text) if self.language == "ru" else EN.get(text, text)

    # Babel takes about a third of a millisecond per value; a card shows hundreds, mostly the
    # same few amounts and dates again: each distinct one is formatted once (bounded caches).
    def date(self, value: str | date | None) -> str:
        if not value:
            return ""
        return _date(self.locale, value if isinstance(value, date) else str(value)[:10])

    def moment(self, value: str | datetime | None) -> str:
        if not value:
            return ""
        return _moment(self.locale, value if isinstance(value, datetime) else str(value))

    def money(self, amount: str | Decimal | None, currency: str | None = None) -> str:
        if amount is None or amount == "":
            return ""
        return _money(self.locale, str(amount), currency or None)


@lru_cache(maxsize=8192)
def _date(locale: str, value: str | date) -> str:
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return format_date(day, "medium", locale=locale)


@lru_cache(maxsize=8192)
def _moment(locale: str, value: str | datetime) -> str:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return format_datetime(at, "short", locale=locale)


@lru_cache(maxsize=8192)
def _money(locale: str, amount: str, currency: str | None) -> str:
    try:
        number = Decimal(amount)
    except InvalidOperation:
        return amount
    if not currency:
        return format_decimal(number, locale=locale)
    text = format_currency(number, currency, locale=locale)
    # a currency without a symbol in the locale is written by its code: "RUB 60,000.00", not "RUB60,000.00"
    return f"{currency}\xa0{text[len(currency) :]}" if text.startswith(currency) and text[3:4] != "\xa0" else text
