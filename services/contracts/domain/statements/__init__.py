"""Bank statements: reading a bank's export (1C client-bank exchange or CSV) into incoming
payments, and the rules that match a payment to a contract. Pure: bytes in, lines out."""
