"""The notifier formats money, dates and payment terms with ``shared.formatting`` (the invoices
printed by the contracts service use the same)."""

from shared.formatting import LOCALES, Locale, long_date, money, payment_terms

__all__ = ["LOCALES", "Locale", "long_date", "money", "payment_terms"]
