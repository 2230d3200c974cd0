"""AsyncAPI documents of Abonent's topics: generated from the event models (``document``) and
checked for compatibility with the released ones (``compat``). ``python -m shared.asyncapi``."""
