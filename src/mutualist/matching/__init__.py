"""Company resolution (account mapping): which of our accounts are which of a partner's.

No Django here: the CLI (`mutualist map`), the web task and the benchmark all call
`match.match_accounts` on PyArrow tables read by `records.read_accounts` or built by
`records.accounts_from_rows`. `blind` matches HMAC tokens instead of plaintext.
"""
